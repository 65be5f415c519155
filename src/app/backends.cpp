// SPDX-License-Identifier: MIT
// Backend selection.
#include "app/backends.hpp"

#include "broker/memory_broker.hpp"
#include "common/clock.hpp"
#include "ratelimit/memory_rate_limiter.hpp"

#include <stdexcept>

namespace ssecast::app {

Backends make_backends(const config::Config& cfg, const std::string& instance_id,
                       metrics::Metrics& /*metrics*/, boost::asio::io_context& /*ioc*/) {
    if (cfg.redis_mode()) {
        throw std::runtime_error("redis.url: redis mode is not built yet (issue #3); remove "
                                 "--redis / redis.url to run in memory mode");
    }
    Backends b;
    b.broker = std::make_unique<broker::MemoryBroker>(cfg.history, SystemClock::instance());
    b.registry = std::make_unique<registry::MemoryRegistry>(instance_id);
    if (cfg.rate_limits.empty()) {
        b.limiter = std::make_unique<ratelimit::NoRateLimiter>();
    } else {
        b.limiter = std::make_unique<ratelimit::MemoryRateLimiter>(cfg.rate_limits,
                                                                   SystemClock::instance());
    }
    b.shutdown = []() -> boost::asio::awaitable<void> { co_return; };
    return b;
}

} // namespace ssecast::app
