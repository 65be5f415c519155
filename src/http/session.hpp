// SPDX-License-Identifier: MIT
// One HTTP connection: read requests (Beast), route them, write responses, or hand the
// socket over to an SSE stream.
#pragma once

#include "http/server_context.hpp"

#include <boost/asio/awaitable.hpp>
#include <boost/asio/ip/tcp.hpp>

namespace ssecast::http {

/// Serves `socket` on `shard`'s thread until the peer closes, an error, or an SSE route
/// takes the socket over. Bad requests get their JSON error; the head must arrive within
/// http.header_timeout_seconds (slowloris), be at most http.max_header_bytes (431) and the
/// body at most limits.max_body_bytes (413). Never throws for network or input errors.
boost::asio::awaitable<void> serve_session(boost::asio::ip::tcp::socket socket, ServerContext& ctx,
                                           hub::Shard& shard);

} // namespace ssecast::http
