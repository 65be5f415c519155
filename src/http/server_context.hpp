// SPDX-License-Identifier: MIT
// What the HTTP layer can reach: configuration, auth, the broker, the registry, metrics, and
// the narrow parts admin/ gets (monitor, admin). Built once by App; outlives every session.
#pragma once

#include "admin/admin_page.hpp"
#include "admin/monitor_sources.hpp"
#include "auth/authenticator.hpp"
#include "broker/broker.hpp"
#include "broker/control.hpp"
#include "config/config.hpp"
#include "http/client_ip.hpp"
#include "http/connect_hook.hpp"
#include "http/cors.hpp"
#include "hub/shard.hpp"
#include "metrics/metrics.hpp"
#include "ratelimit/rate_limiter.hpp"
#include "registry/client_registry.hpp"

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

namespace ssecast::http {

/// Shared by all shards; its members are immutable or thread-safe.
struct ServerContext {
    const config::Config& cfg;
    const auth::Authenticator& auth;
    broker::Broker& broker;
    registry::ClientRegistry& registry;
    ratelimit::RateLimiter& limiter;
    metrics::Metrics& metrics;
    Cors cors;
    TrustedProxies proxies;
    /// What the sse-monitor document and stats stream read (instance id, uptime, registry,
    /// metrics, redis status); admin/ sees only this.
    admin::MonitorSources monitor;
    std::atomic<bool> draining{false};
    std::atomic<std::size_t> open_streams{0}; ///< SSE streams on this instance, all shards
    /// registry::ConnectionInfo::id of the next accepted stream (unique in this process).
    std::atomic<std::uint64_t> next_connection_id{1};
    /// /readyz: true when this instance can serve (redis mode: recent pub/sub round trip).
    std::function<bool()> ready = [] { return true; };
    /// redis.shards only (else null): each shard's status for /readyz's body.
    std::function<std::vector<std::string>()> shard_status{};
    /// Shown pre-filled on the demo page to loopback visitors only; "" = none.
    std::string demo_publish_key{};
    /// The built admin UI and the generated admin token it pre-fills (admin/ sees only this).
    admin::AdminSite admin{};
    /// Refetches auth.jwks_url (rate-limited by the fetcher) and calls its argument once when
    /// done, on any thread; null without a jwks_url.
    std::function<void(std::function<void()>)> refresh_keys{};
    /// Admin orders to every instance and the block list (set by App before serving).
    broker::Control* control = nullptr;
    /// auth.connect_url's client; null without a hook.
    ConnectHook* hook = nullptr;
};

} // namespace ssecast::http
