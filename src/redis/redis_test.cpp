// SPDX-License-Identifier: MIT
// Unit tests of the Redis-free parts of src/redis (the rest is covered by
// tests/integration/test_redis_*.py against a real redis-server).
#include "redis/connection.hpp"
#include "redis/event_codec.hpp"
#include "redis/id_check.hpp"

#include <gtest/gtest.h>

namespace ssecast::redis {
namespace {

using namespace std::chrono_literals;

TEST(Backoff, StaysWithinFullJitterBoundsAndCap) {
    std::minstd_rand rng(42);
    for (unsigned attempt = 0; attempt < 40; ++attempt) {
        for (int i = 0; i < 50; ++i) {
            const auto d = backoff_delay(attempt, 100ms, 5000ms, rng);
            EXPECT_GE(d, 50ms);
            EXPECT_LE(d,
                      std::min(5000ms, std::chrono::milliseconds(100LL << std::min(attempt, 16u))));
        }
    }
}

TEST(Transport, FormatIsBinarySafeResp) {
    EXPECT_EQ(Transport::format({"AUTH", "user", "p w\r\n"}),
              "*3\r\n$4\r\nAUTH\r\n$4\r\nuser\r\n$5\r\np w\r\n\r\n");
    EXPECT_EQ(Transport::format({"SET", std::string("a\0b", 3), ""}),
              std::string("*3\r\n$3\r\nSET\r\n$3\r\na\0b\r\n$0\r\n\r\n", 28));
}

TEST(EventCodec, StoredRoundTrip) {
    hub::EventDraft d{{"orders", "a/b"}, "order.updated", "line1\nline2", {"42"}};
    auto back = decode_stored(encode_stored(d, 1700000000123));
    ASSERT_TRUE(back);
    EXPECT_EQ(back->draft.topics, d.topics);
    EXPECT_EQ(back->draft.type, d.type);
    EXPECT_EQ(back->draft.data, d.data);
    EXPECT_EQ(back->draft.users, d.users);
    EXPECT_EQ(back->published_ms, 1700000000123u);
    EXPECT_FALSE(decode_stored("not json"));
    EXPECT_FALSE(decode_stored(R"({"type":"x"})"));
}

TEST(EventCodec, StoredEventsFollowThePublishRules) {
    // What anyone can PUBLISH on the channel must not carry what POST /publish refuses.
    EXPECT_FALSE(decode_stored(R"({"type":"x\u001b[2J","topics":["a"],"data":""})"));
    EXPECT_FALSE(decode_stored(R"({"type":"x","topics":["a b"],"data":""})"));
    EXPECT_FALSE(decode_stored(R"({"type":"x","topics":[],"data":""})"));
    EXPECT_TRUE(decode_stored(R"({"type":"x","topics":["a"],"data":""})"));
}

// Ingest items go through publish::parse_body: see publish/publish_body_test.cpp.

constexpr std::uint64_t kNow = 1'800'000'000'000;

TEST(IdCheck, AcceptsWellFormedIdsUpToAnHourAhead) {
    const auto lead = static_cast<std::uint64_t>(kMaxIdLead.count());
    EXPECT_EQ(check_redis_id("0-0", kNow).verdict, IdVerdict::ok);
    const auto c = check_redis_id("1800000000000-7", kNow);
    EXPECT_EQ(c.verdict, IdVerdict::ok);
    EXPECT_EQ(c.id, (sse::EventId{kNow, 7}));
    EXPECT_EQ(check_redis_id(std::to_string(kNow + lead) + "-0", kNow).verdict, IdVerdict::ok);
    EXPECT_EQ(check_redis_id(std::to_string(kNow + lead + 1) + "-0", kNow).verdict,
              IdVerdict::ahead);
    EXPECT_EQ(check_redis_id("1-9007199254740991", kNow).verdict, IdVerdict::ok);
}

TEST(IdCheck, RefusesThePoisonOfIssue12AndOtherShapes) {
    EXPECT_EQ(check_redis_id("18446744073709551615-18446744073709551615", kNow).verdict,
              IdVerdict::malformed); // seq over 2^53 - 1
    EXPECT_EQ(check_redis_id("18446744073709551615-0", kNow).verdict, IdVerdict::ahead);
    for (const char* bad : {"", "-", "5", "5-", "-5", "+5-1", "5-+1", "1-2-3", "1 -2", "a-1",
                            "1-9007199254740992", "18446744073709551616-0", "0x1-0"}) {
        EXPECT_EQ(check_redis_id(bad, kNow).verdict, IdVerdict::malformed) << bad;
    }
}

TEST(IdCheck, ChannelMessage) {
    auto m = parse_channel_message("1800000000000-1 {\"a\":1}", kNow);
    EXPECT_EQ(m.id.verdict, IdVerdict::ok);
    EXPECT_EQ(m.body, "{\"a\":1}");
    EXPECT_EQ(parse_channel_message("1800000000000-1", kNow).id.verdict, IdVerdict::malformed);
    m = parse_channel_message("18446744073709551615-18446744073709551615 {}", kNow);
    EXPECT_EQ(m.id.verdict, IdVerdict::malformed);
    EXPECT_TRUE(m.body.empty());
}

} // namespace
} // namespace ssecast::redis
