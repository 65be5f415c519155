// SPDX-License-Identifier: MIT
// The admin stats stream (GET /api/admin/sse-monitor/stream): the monitor document as an SSE
// event once a second.
#pragma once

#include "admin/monitor_sources.hpp"

#include <boost/asio/awaitable.hpp>
#include <boost/asio/ip/tcp.hpp>

#include <functional>
#include <string>

namespace ssecast::admin {

/// Writes `head` (the HTTP response head and retry line, built by http/), then
/// `event: stats` with monitor_document(src, 100) once per second, until a write fails or
/// `draining()` returns true; then shuts the socket down. Owns `socket`; runs on its
/// executor. `src` must outlive the stream. Admission and the capacity slot are the
/// caller's (http/admission).
boost::asio::awaitable<void> stream_stats(boost::asio::ip::tcp::socket socket, std::string head,
                                          const MonitorSources& src,
                                          std::function<bool()> draining);

} // namespace ssecast::admin
