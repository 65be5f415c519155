// SPDX-License-Identifier: MIT
// RateLimiter over Redis: every rule of a request decided in ONE EVALSHA of
// redis/lua/sliding_window.lua, so the limit is global across instances; a per-instance
// MemoryRateLimiter decides while Redis is unreachable (docs/rate-limiting.md §Redis).
#pragma once

#include "common/clock.hpp"
#include "config/config.hpp"
#include "metrics/metrics.hpp"
#include "ratelimit/memory_rate_limiter.hpp"
#include "ratelimit/rate_limiter.hpp"
#include "redis/connection.hpp"
#include "redis/keys.hpp"
#include "redis/script.hpp"

#include <boost/asio/io_context.hpp>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace ssecast::redis {

/// Global sliding-log limits (same exact guarantee as the memory limiter, over all
/// instances): the script checks every applicable rule's ZSET `<prefix>rl:<rule key>` and
/// adds the request to all of them or to none, on the Redis clock.
///
/// Degraded mode ("local-fallback"): when the `commands` connection is down, the script call
/// fails, returns an error, or has not answered within `timeout` (default 500 ms), the
/// request is decided by a per-instance MemoryRateLimiter with the same rules — limits become
/// per instance, never unlimited. Entering logs one warning, leaving one info line;
/// `ssecast_rate_limit_fallback` is 1 meanwhile and local_fallback() is true. It leaves the
/// mode when the connection comes back up or a script call succeeds. A call that timed out
/// may still run in Redis later (then the request is counted in both places: conservative).
///
/// Threading: check() may be called from any thread; Redis work runs on `ioc` (shard 0's
/// loop), and `done` runs exactly once, on that loop's thread or — while the connection is
/// down — synchronously on the caller's. Internal state is shared with in-flight callbacks,
/// so the limiter may be destroyed before the connection's pending commands complete.
class RedisRateLimiter final : public ratelimit::RateLimiter {
  public:
    static constexpr std::chrono::milliseconds kDefaultTimeout{500};

    /// `commands` is the node's shared command connection (started by the broker).
    RedisRateLimiter(boost::asio::io_context& ioc, std::vector<config::RateLimitRule> rules,
                     const Keys& keys, metrics::Metrics& metrics,
                     std::shared_ptr<Connection> commands,
                     std::chrono::milliseconds timeout = kDefaultTimeout);
    ~RedisRateLimiter() override;
    RedisRateLimiter(const RedisRateLimiter&) = delete;
    RedisRateLimiter& operator=(const RedisRateLimiter&) = delete;

    bool covers(config::RateLimitEndpoint endpoint) const noexcept override;
    void check(const ratelimit::Check& check, Done done) override;
    bool local_fallback() const noexcept override;

  private:
    struct State;
    std::shared_ptr<State> state_;
};

} // namespace ssecast::redis
