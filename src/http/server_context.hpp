// SPDX-License-Identifier: MIT
// What every HTTP session can reach: configuration, auth, the broker, the registry,
// metrics (a session's own shard is hub::Shard). Built once by App; outlives every session.
#pragma once

#include "admin/admin_files.hpp"
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

#include <boost/asio/io_context.hpp>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <string>

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
    std::string instance_id;
    std::chrono::steady_clock::time_point started = std::chrono::steady_clock::now();
    std::atomic<bool> draining{false};
    std::atomic<std::size_t> open_streams{0}; ///< SSE streams on this instance, all shards
    /// registry::ConnectionInfo::id of the next accepted stream (unique in this process).
    std::atomic<std::uint64_t> next_connection_id{1};
    /// /readyz: true when this instance can serve (redis mode: recent pub/sub round trip).
    std::function<bool()> ready = [] { return true; };
    /// The monitor's redis.status: "disabled", "connected" or "disconnected".
    std::function<std::string()> redis_status = [] { return std::string("disabled"); };
    /// Shown pre-filled on the demo page to loopback visitors only; "" = none.
    std::string demo_publish_key{};
    /// Admin token generated at start-up because none was configured (memory mode, no JWT
    /// secret); pre-filled on /admin for loopback visitors only. A configured
    /// auth.admin_token is never put here, so it is never pre-filled. "" = none.
    std::string generated_admin_token{};
    admin::AdminFiles admin_files{}; ///< built admin UI (index.html + assets/)
    /// Refetches auth.jwks_url (rate-limited by the fetcher) and calls its argument once when
    /// done, on any thread; null without a jwks_url.
    std::function<void(std::function<void()>)> refresh_keys{};
    /// Admin orders to every instance and the block list (set by App before serving).
    broker::Control* control = nullptr;
    /// auth.connect_url's client; null without a hook.
    ConnectHook* hook = nullptr;
};

} // namespace ssecast::http
