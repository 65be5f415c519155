// SPDX-License-Identifier: MIT
// Global rate limits: one sliding_window.lua call per request, local fallback on outage.
#include "redis/redis_rate_limiter.hpp"

#include "ratelimit/sliding_window.hpp"
#include "redis/scripts.hpp"

#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>

#include <spdlog/spdlog.h>

namespace ssecast::redis {

namespace net = boost::asio;

struct RedisRateLimiter::State : std::enable_shared_from_this<State> {
    State(net::io_context& io, std::vector<config::RateLimitRule> r, const Keys& keys,
          metrics::Metrics& m, std::shared_ptr<Connection> commands, std::chrono::milliseconds t)
        : ioc(io), rules(std::move(r)), key_prefix(keys.prefix + "rl:"),
          member_suffix(keys.instance_id + ":"), metrics(m), cmd(std::move(commands)),
          script(Script::create(lua::kSlidingWindow)), timeout(t),
          local(rules, SystemClock::instance()) {}

    /// One request waiting for Redis: whichever of reply and timer comes first decides.
    struct Pending {
        explicit Pending(net::io_context& io) : timer(io) {}
        net::steady_timer timer;
        ratelimit::Check check;
        std::vector<ratelimit::AppliedRule> applied;
        Done done;
        bool finished = false;
    };

    void run(ratelimit::Check check, std::vector<ratelimit::AppliedRule> applied, Done done);
    void finish_local(Pending& p, const std::string& why);
    /// Loop thread only: switches the mode, with one log line and the gauge per change.
    void set_fallback(bool on, const std::string& why);

    net::io_context& ioc;
    const std::vector<config::RateLimitRule> rules;
    const std::string key_prefix;    ///< "<prefix>rl:"
    const std::string member_suffix; ///< "<instance id>:", + a counter per request
    metrics::Metrics& metrics;
    const std::shared_ptr<Connection> cmd;
    const std::shared_ptr<Script> script; ///< loop thread only
    const std::chrono::milliseconds timeout;
    ratelimit::MemoryRateLimiter local; ///< thread-safe; the outage fallback
    std::atomic<bool> fallback{false};
    std::uint64_t next_member = 0; ///< loop thread only
};

RedisRateLimiter::RedisRateLimiter(net::io_context& ioc, std::vector<config::RateLimitRule> rules,
                                   const Keys& keys, metrics::Metrics& metrics,
                                   std::shared_ptr<Connection> commands,
                                   std::chrono::milliseconds timeout)
    : state_(std::make_shared<State>(ioc, std::move(rules), keys, metrics, std::move(commands),
                                     timeout)) {
    std::weak_ptr<State> weak = state_;
    // Registered before the loop runs (make_redis_node), like the broker's handlers.
    state_->cmd->on_up([weak] {
        if (auto s = weak.lock()) {
            s->set_fallback(false, "redis connection is back");
        }
    });
    state_->cmd->on_down([weak](const std::string& why) {
        if (auto s = weak.lock()) {
            s->set_fallback(true, why);
        }
    });
}

RedisRateLimiter::~RedisRateLimiter() {
    state_->metrics.global().rate_limit_fallback.store(0, std::memory_order_relaxed);
}

bool RedisRateLimiter::covers(config::RateLimitEndpoint endpoint) const noexcept {
    return state_->local.covers(endpoint);
}

bool RedisRateLimiter::local_fallback() const noexcept {
    return state_->fallback.load(std::memory_order_relaxed);
}

void RedisRateLimiter::check(const ratelimit::Check& check, Done done) {
    auto applied = ratelimit::applicable_rules(state_->rules, check);
    if (applied.empty()) {
        done(ratelimit::Decision{}); // e.g. only `user` rules and an anonymous caller
        return;
    }
    if (state_->fallback.load(std::memory_order_relaxed) && !state_->cmd->up()) {
        done(state_->local.check_now(check)); // Redis is down: no hop to the loop at all
        return;
    }
    net::post(state_->ioc,
              [s = state_, check, applied = std::move(applied), done = std::move(done)]() mutable {
                  s->run(std::move(check), std::move(applied), std::move(done));
              });
}

void RedisRateLimiter::State::run(ratelimit::Check check,
                                  std::vector<ratelimit::AppliedRule> applied, Done done) {
    auto p = std::make_shared<Pending>(ioc);
    p->check = std::move(check);
    p->applied = std::move(applied);
    p->done = std::move(done);
    if (!cmd->up()) {
        finish_local(*p, "redis connection is down");
        return;
    }
    std::vector<std::string> keys;
    std::vector<std::string> args;
    keys.reserve(p->applied.size());
    args.reserve(1 + 2 * p->applied.size());
    args.push_back(member_suffix + std::to_string(next_member++));
    for (const auto& a : p->applied) {
        keys.push_back(key_prefix + a.key);
        args.push_back(std::to_string(a.rule.limit));
        args.push_back(std::to_string(
            std::chrono::duration_cast<std::chrono::microseconds>(a.rule.window).count()));
    }
    p->timer.expires_after(timeout);
    p->timer.async_wait([self = shared_from_this(), p](boost::system::error_code ec) {
        if (!ec && !p->finished) {
            self->finish_local(*p, "rate-limit script timed out");
        }
    });
    script->eval(*cmd, keys, args, [self = shared_from_this(), p](result<Reply> r) {
        if (p->finished) {
            return; // the timer decided already
        }
        p->timer.cancel();
        if (!r) {
            self->finish_local(*p, "rate-limit script failed: " + r.error().message());
            return;
        }
        const std::size_t n = p->applied.size();
        if (!r->is_array() || r->elements.size() != 1 + 4 * n) {
            self->finish_local(*p, "rate-limit script returned " +
                                       (r->is_error() ? r->str : std::string("a bad reply")));
            return;
        }
        std::vector<ratelimit::WindowVerdict> verdicts(n);
        for (std::size_t i = 0; i < n; ++i) {
            const auto* e = &r->elements[1 + 4 * i];
            verdicts[i].allowed = e[0].integer != 0;
            verdicts[i].remaining =
                static_cast<std::uint32_t>(std::max<std::int64_t>(0, e[1].integer));
            verdicts[i].reset_after = e[2].integer;
            verdicts[i].retry_after = e[3].integer;
        }
        self->set_fallback(false, "rate-limit script answered");
        p->finished = true;
        p->done(ratelimit::combine(p->applied, verdicts));
    });
}

void RedisRateLimiter::State::finish_local(Pending& p, const std::string& why) {
    p.finished = true;
    p.timer.cancel();
    set_fallback(true, why);
    p.done(local.check_now(p.check));
}

void RedisRateLimiter::State::set_fallback(bool on, const std::string& why) {
    if (fallback.exchange(on, std::memory_order_relaxed) == on) {
        return;
    }
    metrics.global().rate_limit_fallback.store(on ? 1 : 0, std::memory_order_relaxed);
    if (on) {
        spdlog::warn("rate limits are per instance (local fallback) while Redis is "
                     "unreachable: {}",
                     why);
    } else {
        spdlog::info("rate limits are global again ({})", why);
    }
}

} // namespace ssecast::redis
