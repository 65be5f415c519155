// SPDX-License-Identifier: MIT
// Backend selection.
#include "app/backends.hpp"

#include "broker/memory_broker.hpp"
#include "common/clock.hpp"
#include "ratelimit/memory_rate_limiter.hpp"
#include "redis/redis_backends.hpp"

#include <stdexcept>

namespace ssecast::app {

namespace {
/// Bound on deregistering from Redis during drain (SIGTERM must exit within the grace).
constexpr std::chrono::milliseconds kDeregisterTimeout{1500};
} // namespace

Backends make_backends(const config::Config& cfg, const std::string& instance_id,
                       metrics::Metrics& metrics, boost::asio::io_context& ioc) {
    Backends b;
    if (cfg.redis_mode()) {
        // All Redis I/O runs on `ioc` (shard 0); redis/redis_backends.hpp has the threading.
        auto node = redis::make_redis_node(cfg, instance_id, metrics, ioc);
        auto* broker = node->broker.get();
        auto* registry = node->registry.get();
        b.broker = std::move(node->broker);
        b.registry = std::move(node->registry);
        b.limiter = std::move(node->limiter); // null without rules: NoRateLimiter below
        b.control = std::move(node->control);
        b.ready = [broker] { return broker->ready(); };
        b.redis_status = [connections = node->connections] {
            return redis::RedisNode::status_of(connections);
        };
        // Destroyed first (Backends' last member), so the ingest consumer goes before the
        // broker it publishes through.
        b.shutdown = [node, registry]() -> boost::asio::awaitable<void> {
            co_await redis::shutdown_node(*node->ingest, *registry, kDeregisterTimeout);
        };
    } else {
        auto broker = std::make_unique<broker::MemoryBroker>(cfg.history, SystemClock::instance());
        b.cron = [raw = broker.get()] { raw->trim_history(); };
        b.broker = std::move(broker);
        b.registry = std::make_unique<registry::MemoryRegistry>(instance_id);
        b.control = std::make_unique<broker::MemoryControl>();
        b.shutdown = []() -> boost::asio::awaitable<void> { co_return; };
    }
    // redis mode with rules already has its RedisRateLimiter (global, local fallback inside).
    if (!b.limiter && cfg.rate_limits.empty()) {
        b.limiter = std::make_unique<ratelimit::NoRateLimiter>();
    } else if (!b.limiter) {
        b.limiter = std::make_unique<ratelimit::MemoryRateLimiter>(cfg.rate_limits,
                                                                   SystemClock::instance());
    }
    return b;
}

} // namespace ssecast::app
