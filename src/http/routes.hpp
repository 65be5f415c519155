// SPDX-License-Identifier: MIT
// The route table (every endpoint, streaming or not) and the non-streaming endpoints:
// publish, health, metrics, the admin API, static pages.
#pragma once

#include "http/failure.hpp"
#include "http/request.hpp"
#include "http/server_context.hpp"

#include <boost/asio/awaitable.hpp>

#include <optional>
#include <string>

namespace ssecast::http {

/// Where a request goes. The two streams take the socket over (session.cpp); every other
/// route is answered by handle_request.
enum class Route {
    preflight,      ///< OPTIONS, any path (CORS)
    events,         ///< GET /events
    monitor_stream, ///< GET /api/admin/sse-monitor/stream
    publish,        ///< POST /publish
    disconnect,     ///< POST /api/admin/disconnect
    healthz,        ///< GET|HEAD /healthz
    readyz,         ///< GET|HEAD /readyz
    metrics,        ///< GET|HEAD /metrics
    monitor,        ///< GET|HEAD /api/admin/sse-monitor
    demo,           ///< GET|HEAD / and /index.html
    admin_files,    ///< GET|HEAD /admin and /admin/…
    wrong_method,   ///< a known path with another method (405)
    not_found,      ///< 404
};

/// The one route table: method + path → Route. Pure; any thread.
Route route_of(const Request& req);

/// Answers `req`, routed to `route` (any but the two streams). Never throws for bad input.
boost::asio::awaitable<Response> handle_request(const Request& req, Route route,
                                                ServerContext& ctx);

/// Rate-limit check for `endpoint`: fills `headers` and returns errc::rate_limited when
/// refused. Costs nothing when no rule covers the endpoint.
boost::asio::awaitable<std::optional<Failure>>
check_rate_limit(ratelimit::RateLimiter& limiter, metrics::Metrics& metrics,
                 config::RateLimitEndpoint endpoint, const auth::Identity& who,
                 const std::string& ip, Headers& headers);

/// True when `req` carries the admin token or an admin JWT.
bool is_admin_request(const Request& req, const auth::Authenticator& auth);

} // namespace ssecast::http
