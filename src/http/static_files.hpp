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
/// a page saying how to build it. For a loopback visitor (Request::local_visitor) the HTML
/// carries `<meta name="ssecast-admin-token">` with ctx.generated_admin_token when one was
/// generated (never a configured token), served no-store.
Response admin_file(const Request& req, const ServerContext& ctx);

} // namespace ssecast::http
