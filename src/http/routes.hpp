// SPDX-License-Identifier: MIT
// The non-streaming endpoints: publish, health, metrics, the admin API, static pages.
#pragma once

#include "http/failure.hpp"
#include "http/request.hpp"
#include "http/server_context.hpp"

#include <boost/asio/awaitable.hpp>

#include <optional>
#include <string>

namespace ssecast::http {

/// Answers `req` (any route except the two SSE streams). Never throws for bad input.
boost::asio::awaitable<Response> handle_request(const Request& req, ServerContext& ctx);

/// The sse-monitor JSON document with at most `limit` users (global figures from the
/// registry; cached by the registry backend where that matters). A non-empty `user` adds
/// `connections`: that user's open streams on every instance (ids for the disconnect API).
boost::asio::awaitable<std::string> monitor_document(ServerContext& ctx, std::size_t limit,
                                                     std::string user = {});

/// Rate-limit check for `endpoint`: fills `headers` and returns errc::rate_limited when
/// refused. Costs nothing when no rule covers the endpoint.
boost::asio::awaitable<std::optional<Failure>>
check_rate_limit(ServerContext& ctx, config::RateLimitEndpoint endpoint, const auth::Identity& who,
                 const std::string& ip, Headers& headers);

/// True when `req` carries the admin token or an admin JWT.
bool is_admin_request(const Request& req, const ServerContext& ctx);

} // namespace ssecast::http
