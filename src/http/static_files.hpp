// SPDX-License-Identifier: MIT
// Pages ssecast serves itself: the demo page at / and the built admin UI at /admin.
#pragma once

#include "http/request.hpp"
#include "http/server_context.hpp"

namespace ssecast::http {

/// The demo page: subscribe to a topic and publish to it from the same page. The demo
/// publish key is filled in only for loopback visitors.
Response demo_page(const Request& req, const ServerContext& ctx);

/// A file of the built admin UI (ctx.admin_dir): /admin → index.html (no-cache), hashed
/// assets cached for a year. Refuses paths leaving the directory; if the UI was not built,
/// a page saying how to build it.
Response admin_file(const Request& req, const ServerContext& ctx);

} // namespace ssecast::http
