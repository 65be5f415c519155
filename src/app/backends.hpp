// SPDX-License-Identifier: MIT
// The one place that chooses memory or redis implementations of the backend interfaces
// (SPEC: handler = redisHandler || memoryHandler).
#pragma once

#include "broker/broker.hpp"
#include "broker/control.hpp"
#include "config/config.hpp"
#include "metrics/metrics.hpp"
#include "ratelimit/rate_limiter.hpp"
#include "registry/client_registry.hpp"

#include <boost/asio/awaitable.hpp>
#include <boost/asio/io_context.hpp>

#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace ssecast::app {

struct Backends {
    std::unique_ptr<broker::Broker> broker;
    std::unique_ptr<registry::ClientRegistry> registry;
    std::unique_ptr<ratelimit::RateLimiter> limiter;
    std::unique_ptr<broker::Control> control;  ///< admin orders to every instance
    std::function<bool()> ready;               ///< null = always ready
    std::function<std::string()> redis_status; ///< null = "disabled"
    /// redis.shards only (else null): each shard's status, as redis_status words them.
    std::function<std::vector<std::string>()> shard_status;
    /// Bounded periodic work (memory: age trimming of idle topics); called about once a
    /// second on shard 0. null = none.
    std::function<void()> cron;
    /// Called once during drain, before the loops stop (redis: deregister the instance).
    std::function<boost::asio::awaitable<void>()> shutdown;
};

/// Builds the backends for `cfg`. Redis-backed ones run their I/O on `ioc`.
Backends make_backends(const config::Config& cfg, const std::string& instance_id,
                       metrics::Metrics& metrics, boost::asio::io_context& ioc);

} // namespace ssecast::app
