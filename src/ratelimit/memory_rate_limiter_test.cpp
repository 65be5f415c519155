// SPDX-License-Identifier: MIT
// MemoryRateLimiter and the sliding-log math, on a FakeClock: exact counts, window edges,
// several rules, headers, identifiers, memory bounds, concurrency.
#include "ratelimit/memory_rate_limiter.hpp"
#include "ratelimit/sliding_window.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <map>
#include <thread>

namespace ssecast::ratelimit {
namespace {

using namespace std::chrono_literals;
using config::RateLimitEndpoint;
using config::RateLimitIdentifier;
using config::RateLimitRule;

RateLimitRule rule(std::uint32_t limit, std::chrono::seconds window,
                   RateLimitEndpoint ep = RateLimitEndpoint::sse,
                   RateLimitIdentifier id = RateLimitIdentifier::user_or_ip) {
    return RateLimitRule{ep, id, limit, window};
}

Check sse(std::string user = "", std::string ip = "10.0.0.1") {
    return Check{RateLimitEndpoint::sse, std::move(user), std::move(ip)};
}

/// How many of `n` back-to-back checks are accepted.
int accepted(MemoryRateLimiter& l, const Check& c, int n) {
    int ok = 0;
    for (int i = 0; i < n; ++i) {
        ok += l.check_now(c).allowed ? 1 : 0;
    }
    return ok;
}

std::map<std::string, std::string> headers_of(const Decision& d, const FakeClock& clock) {
    std::map<std::string, std::string> out;
    for (auto& [k, v] : rate_limit_headers(d, "sse", clock.system_now())) {
        out[k] = v;
    }
    return out;
}

TEST(SlidingWindow, EntryLeavesExactlyOneWindowLater) {
    const std::vector<Micros> log{100, 200, 300};
    EXPECT_EQ(first_in_window(log, 1100, 1000), 1u); // 100 <= 1100 - 1000: out
    EXPECT_EQ(first_in_window(log, 1099, 1000), 0u);
    EXPECT_EQ(first_in_window(log, 5000, 1000), 3u);
}

TEST(SlidingWindow, DecideReportsRemainingResetAndRetry) {
    const std::vector<Micros> empty;
    auto v = decide(empty, 1000, 3, 500);
    EXPECT_TRUE(v.allowed);
    EXPECT_EQ(v.remaining, 2u);
    EXPECT_EQ(v.reset_after, 500);
    EXPECT_EQ(v.retry_after, 0);

    const std::vector<Micros> two{800, 900};
    v = decide(two, 1000, 3, 500);
    EXPECT_TRUE(v.allowed);
    EXPECT_EQ(v.remaining, 0u);
    EXPECT_EQ(v.reset_after, 300); // 800 leaves at 1300

    const std::vector<Micros> full{700, 800, 900};
    v = decide(full, 1000, 3, 500);
    EXPECT_FALSE(v.allowed);
    EXPECT_EQ(v.remaining, 0u);
    EXPECT_EQ(v.retry_after, 200); // 700 leaves at 1200
    // The limit shrank to 2: two entries must leave, the second at 1300.
    v = decide(full, 1000, 2, 500);
    EXPECT_EQ(v.retry_after, 300);
}

TEST(MemoryRateLimiter, AcceptsExactlyLimit) {
    FakeClock clock;
    MemoryRateLimiter l({rule(5, 60s)}, clock);
    EXPECT_EQ(accepted(l, sse(), 20), 5);
}

TEST(MemoryRateLimiter, NoDoubleBurstAtWindowEdge) {
    FakeClock clock;
    MemoryRateLimiter l({rule(5, 60s)}, clock);
    clock.advance(59900ms);
    EXPECT_EQ(accepted(l, sse(), 5), 5);
    clock.advance(200ms); // t = 60.1 s: a fixed window would have reset here
    EXPECT_EQ(accepted(l, sse(), 10), 0);
    clock.advance(59700ms); // t = 119.8 s
    EXPECT_EQ(accepted(l, sse(), 10), 0);
    clock.advance(100ms); // t = 119.9 s: the five leave the window together
    EXPECT_EQ(accepted(l, sse(), 10), 5);
}

TEST(MemoryRateLimiter, AnyWindowHoldsAtMostLimit) {
    // Requests every 700 ms for 10 minutes; every 60 s span must hold <= 5 accepted.
    FakeClock clock;
    MemoryRateLimiter l({rule(5, 60s)}, clock);
    std::vector<std::int64_t> times_ms;
    for (std::int64_t t = 0; t < 600'000; t += 700) {
        if (l.check_now(sse()).allowed) {
            times_ms.push_back(t);
        }
        clock.advance(700ms);
    }
    ASSERT_GE(times_ms.size(), 5u * 9);
    for (std::size_t i = 0; i + 5 < times_ms.size(); ++i) {
        EXPECT_GE(times_ms[i + 5] - times_ms[i], 60'000) << "6 accepted within 60 s at " << i;
    }
}

TEST(MemoryRateLimiter, RefusedRequestsAreNotCounted) {
    FakeClock clock;
    MemoryRateLimiter l({rule(2, 10s)}, clock);
    EXPECT_EQ(accepted(l, sse(), 2), 2);
    for (int i = 0; i < 9; ++i) {
        clock.advance(1s);
        EXPECT_EQ(accepted(l, sse(), 3), 0);
    }
    clock.advance(1s); // t = 10 s: only the two accepted ones ever counted
    EXPECT_EQ(accepted(l, sse(), 3), 2);
}

TEST(MemoryRateLimiter, EveryRuleMustAcceptAndAllCount) {
    FakeClock clock;
    MemoryRateLimiter l({rule(2, 10s), rule(5, 100s)}, clock);
    EXPECT_EQ(accepted(l, sse(), 4), 2); // short rule refuses; long one counts only 2
    clock.advance(10s);
    EXPECT_EQ(accepted(l, sse(), 4), 2); // 4 in the long window
    clock.advance(10s);
    auto d = l.check_now(sse()); // 5th: accepted, long rule now exhausted
    EXPECT_TRUE(d.allowed);
    EXPECT_EQ(d.limit, 5u);
    EXPECT_EQ(d.remaining, 0u);
    EXPECT_EQ(d.reset_after, 80s); // the first accepted (t=0) leaves at t=100
    clock.advance(10s);
    d = l.check_now(sse()); // short window is free, long one is not
    EXPECT_FALSE(d.allowed);
    EXPECT_EQ(d.limit, 5u);
    EXPECT_EQ(d.window, 100s);
    EXPECT_EQ(d.retry_after, 70s);
    clock.advance(70s); // t = 100 s: the two from t=0 leave
    EXPECT_EQ(accepted(l, sse(), 4), 2);
}

TEST(MemoryRateLimiter, HeadersDescribeRuleClosestToRefusal) {
    FakeClock clock;
    MemoryRateLimiter l({rule(10, 60s), rule(3, 3600s)}, clock);
    auto d = l.check_now(sse());
    EXPECT_EQ(d.limit, 3u); // remaining 2 < 9
    EXPECT_EQ(d.remaining, 2u);
    EXPECT_EQ(d.window, 3600s);

    // Tie on remaining: the longer reset wins.
    MemoryRateLimiter tie({rule(4, 60s), rule(4, 600s)}, clock);
    d = tie.check_now(sse());
    EXPECT_EQ(d.remaining, 3u);
    EXPECT_EQ(d.window, 600s);
    EXPECT_EQ(d.reset_after, 600s);
}

TEST(MemoryRateLimiter, HeaderValues) {
    FakeClock clock;
    MemoryRateLimiter l({rule(5, 60s)}, clock);
    const auto now_unix =
        std::chrono::duration_cast<std::chrono::seconds>(clock.system_now().time_since_epoch())
            .count();
    auto h = headers_of(l.check_now(sse()), clock);
    EXPECT_EQ(h["X-RateLimit-Limit"], "5");
    EXPECT_EQ(h["X-RateLimit-Remaining"], "4");
    EXPECT_EQ(h["X-RateLimit-Reset"], std::to_string(now_unix + 60));
    EXPECT_EQ(h["RateLimit-Policy"], "\"sse\";q=5;w=60");
    EXPECT_EQ(h["RateLimit"], "\"sse\";r=4;t=60");
    EXPECT_EQ(h.count("Retry-After"), 0u);

    clock.advance(20s);
    EXPECT_EQ(accepted(l, sse(), 4), 4);
    clock.advance(39700ms); // the first one leaves in 0.3 s: headers round up to 1
    h = headers_of(l.check_now(sse()), clock);
    EXPECT_EQ(h["X-RateLimit-Remaining"], "0");
    EXPECT_EQ(h["RateLimit"], "\"sse\";r=0;t=1");
    EXPECT_EQ(h["Retry-After"], "1");
    clock.advance(300ms);
    h = headers_of(l.check_now(sse()), clock); // accepted; the t=20 s batch is next
    EXPECT_EQ(h.count("Retry-After"), 0u);
    EXPECT_EQ(h["RateLimit"], "\"sse\";r=0;t=20");
    h = headers_of(l.check_now(sse()), clock);
    EXPECT_EQ(h["Retry-After"], "20");
}

TEST(MemoryRateLimiter, NoHeadersWithoutApplicableRule) {
    FakeClock clock;
    MemoryRateLimiter l({rule(1, 60s, RateLimitEndpoint::publish)}, clock);
    EXPECT_FALSE(l.covers(RateLimitEndpoint::sse));
    EXPECT_TRUE(l.covers(RateLimitEndpoint::publish));
    const auto d = l.check_now(sse());
    EXPECT_FALSE(d.limited);
    EXPECT_TRUE(d.allowed);
    EXPECT_TRUE(rate_limit_headers(d, "sse", clock.system_now()).empty());
}

TEST(MemoryRateLimiter, UserOrIpPicksUserWhenAuthenticated) {
    FakeClock clock;
    MemoryRateLimiter l({rule(2, 60s)}, clock);
    EXPECT_EQ(accepted(l, sse("alice", "10.0.0.1"), 1), 1);
    EXPECT_EQ(accepted(l, sse("alice", "10.0.0.2"), 3), 1); // same user, other IP
    EXPECT_EQ(accepted(l, sse("", "10.0.0.1"), 3), 2);      // anonymous: by IP
    EXPECT_EQ(accepted(l, sse("bob", "10.0.0.1"), 3), 2);   // bob has his own budget
}

TEST(MemoryRateLimiter, IpRuleIgnoresUser) {
    FakeClock clock;
    MemoryRateLimiter l({rule(2, 60s, RateLimitEndpoint::sse, RateLimitIdentifier::ip)}, clock);
    EXPECT_EQ(accepted(l, sse("alice", "10.0.0.1"), 1), 1);
    EXPECT_EQ(accepted(l, sse("bob", "10.0.0.1"), 3), 1);
    EXPECT_EQ(accepted(l, sse("alice", "10.0.0.2"), 3), 2);
}

TEST(MemoryRateLimiter, UserRuleSkipsAnonymous) {
    FakeClock clock;
    MemoryRateLimiter l({rule(1, 60s, RateLimitEndpoint::sse, RateLimitIdentifier::user)}, clock);
    EXPECT_EQ(accepted(l, sse("", "10.0.0.1"), 5), 5);
    EXPECT_FALSE(l.check_now(sse("", "10.0.0.1")).limited);
    EXPECT_EQ(accepted(l, sse("alice", "10.0.0.1"), 5), 1);
}

TEST(MemoryRateLimiter, EndpointsAreSeparate) {
    FakeClock clock;
    MemoryRateLimiter l({rule(1, 60s), rule(2, 60s, RateLimitEndpoint::publish)}, clock);
    const Check pub{RateLimitEndpoint::publish, "", "10.0.0.1"};
    EXPECT_EQ(accepted(l, sse(), 3), 1);
    EXPECT_EQ(accepted(l, pub, 3), 2);
}

TEST(MemoryRateLimiter, SweepDropsIdleKeys) {
    FakeClock clock;
    MemoryRateLimiter l({rule(3, 10s)}, clock);
    for (int i = 0; i < 5000; ++i) {
        l.check_now(sse("", "ip" + std::to_string(i)));
    }
    EXPECT_EQ(l.key_count(), 5000u);
    clock.advance(9999ms);
    EXPECT_EQ(l.sweep(), 0u);
    clock.advance(1ms);
    EXPECT_EQ(l.sweep(), 5000u);
    EXPECT_EQ(l.key_count(), 0u);
}

TEST(MemoryRateLimiter, ManyIpsStayBoundedWithoutExplicitSweep) {
    FakeClock clock;
    MemoryRateLimiter l({rule(3, 1s)}, clock);
    std::size_t peak = 0;
    for (int round = 0; round < 100; ++round) {
        for (int i = 0; i < 1000; ++i) {
            l.check_now(sse("", std::to_string(round) + "." + std::to_string(i)));
        }
        peak = std::max(peak, l.key_count());
        clock.advance(2s);
    }
    // 100 000 distinct IPs went through; at most 1000 are live at a time. Bound per shard:
    // 2 × live at its last sweep + 256, so under 2 × 1000 + 64 × 256 in total.
    EXPECT_LT(peak, 2u * 1000 + 64u * 256);
}

TEST(MemoryRateLimiter, HammeredKeyStaysExactOverManyWindows) {
    FakeClock clock;
    MemoryRateLimiter l({rule(3, 1s)}, clock);
    // Exercises the lazy compaction of the log's dead prefix across 1000 windows.
    for (int w = 0; w < 1000; ++w) {
        ASSERT_EQ(accepted(l, sse(), 10), 3) << "window " << w;
        clock.advance(1s);
    }
    EXPECT_EQ(l.key_count(), 1u);
}

TEST(MemoryRateLimiter, TwoThreadsAcceptExactlyLimit) {
    FakeClock clock;
    MemoryRateLimiter l(
        {rule(100, 60s), rule(150, 60s, RateLimitEndpoint::sse, RateLimitIdentifier::ip)}, clock);
    std::atomic<int> ok{0};
    auto worker = [&](int seed) {
        for (int i = 0; i < 2000; ++i) {
            // Two identities per thread so locks over several shards interleave.
            const Check c = sse((i + seed) % 2 == 0 ? "alice" : "", "10.0.0.1");
            l.check(c, [&](Decision d) { ok += d.allowed ? 1 : 0; });
        }
    };
    std::thread a(worker, 0);
    std::thread b(worker, 1);
    a.join();
    b.join();
    // alice: 100 by user; anonymous: 100 by IP rule user_or_ip; the IP rule (shared) caps
    // both together at 150.
    EXPECT_EQ(ok.load(), 150);
}

TEST(MemoryRateLimiter, TwoThreadsOneKey) {
    FakeClock clock;
    MemoryRateLimiter l({rule(7, 60s)}, clock);
    std::atomic<int> ok{0};
    auto worker = [&] { ok += accepted(l, sse("carol"), 1000); };
    std::thread a(worker);
    std::thread b(worker);
    a.join();
    b.join();
    EXPECT_EQ(ok.load(), 7);
}

} // namespace
} // namespace ssecast::ratelimit
