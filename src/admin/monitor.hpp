// SPDX-License-Identifier: MIT
// The /api/admin/sse-monitor document (SPEC §sse-monitor), built from plain inputs.
#pragma once

#include "metrics/metrics.hpp"
#include "registry/client_registry.hpp"

#include <chrono>
#include <optional>
#include <string>
#include <vector>

namespace ssecast::admin {

struct MonitorInput {
    std::string handler; ///< "memory" | "redis"
    std::string instance_id;
    std::chrono::seconds uptime{0};
    std::size_t local_connections = 0;
    std::size_t local_unique_users = 0;
    registry::RegistrySnapshot global; ///< in memory mode: the local view
    std::string redis_status;          ///< "disabled" | "connected" | "disconnected"
    /// redis.shards: each shard's status (redis.shards in the document); empty without.
    std::vector<std::string> shard_status;
    bool rate_limit_fallback = false; ///< limits run per instance because Redis is down
    metrics::Totals totals;
    /// Set for `?user=<id>`: that user's open streams (the document's `connections`).
    std::optional<std::vector<registry::ConnectionRecord>> connections{};
};

/// Serialises SPEC's JSON document (compact).
std::string render_monitor(const MonitorInput& in);

} // namespace ssecast::admin
