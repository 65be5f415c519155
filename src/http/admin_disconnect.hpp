// SPDX-License-Identifier: MIT
// POST /api/admin/disconnect (SPEC): the body's validation and the order to every instance.
#pragma once

#include "auth/authenticator.hpp"
#include "broker/control.hpp"
#include "http/failure.hpp"
#include "http/request.hpp"

#include <boost/asio/awaitable.hpp>

#include <optional>
#include <string_view>

namespace ssecast::http {

/// Longest block accepted (one year): far below any clock overflow.
inline constexpr std::chrono::seconds kMaxBlock{365LL * 24 * 3600};

/// `{"user": "42"}` or `{"connection": "<instance>:<n>"}`, optionally `"block_seconds": S`
/// (with `user` only, 0..kMaxBlock). errc::bad_json for invalid JSON, errc::bad_request for
/// anything else (both or neither target, an empty or over-256-byte value, an unknown field,
/// a block with a connection, a block that is not such an integer). Pure.
std::optional<Failure> parse_disconnect(std::string_view body, broker::DisconnectOrder& out);

/// The route: 401 without admin rights, 400 for a bad body, 503 when the order cannot be
/// sent (redis down), else 200 `{"disconnected": N}` summed over the instances.
/// `control` sends the order (set by App before serving).
boost::asio::awaitable<Response>
admin_disconnect(const Request& req, const auth::Authenticator& auth, broker::Control& control);

} // namespace ssecast::http
