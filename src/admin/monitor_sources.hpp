// SPDX-License-Identifier: MIT
// What the sse-monitor document is built from, and building it (SPEC §sse-monitor): the
// narrow view of this instance that admin/ gets instead of the whole server context.
#pragma once

#include "metrics/metrics.hpp"
#include "registry/client_registry.hpp"

#include <boost/asio/awaitable.hpp>

#include <chrono>
#include <cstddef>
#include <functional>
#include <string>
#include <vector>

namespace ssecast::admin {

/// Read-only views of this instance, set once by App; every member is immutable or
/// thread-safe, so the document may be built on any shard.
struct MonitorSources {
    std::string handler; ///< the broker's name: "memory" | "redis"
    std::string instance_id;
    std::chrono::steady_clock::time_point started = std::chrono::steady_clock::now();
    metrics::Metrics& metrics;
    registry::ClientRegistry& registry;
    /// "disabled", "connected" or "disconnected".
    std::function<std::string()> redis_status = [] { return std::string("disabled"); };
    /// redis.shards: each shard's status, shard 0 first; null without shards.
    std::function<std::vector<std::string>()> shard_status{};
    /// True while rate limits run per instance because Redis is down.
    std::function<bool()> rate_limit_fallback = [] { return false; };
};

/// The sse-monitor JSON document with at most `limit` users (global figures from the
/// registry; when the registry cannot answer, this instance alone). A non-empty `user` adds
/// `connections`: that user's open streams on every instance (ids for the disconnect API).
/// Resumes on the awaiting coroutine's executor; never throws for a backend failure.
boost::asio::awaitable<std::string> monitor_document(const MonitorSources& src, std::size_t limit,
                                                     std::string user = {});

} // namespace ssecast::admin
