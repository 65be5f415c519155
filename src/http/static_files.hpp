// SPDX-License-Identifier: MIT
// Pages ssecast serves itself: the demo page at / and the built admin UI at /admin.
#pragma once

#include "admin/admin_page.hpp"
#include "http/request.hpp"

#include <string_view>

namespace ssecast::http {

/// The demo page: subscribe to a topic and publish to it from the same page. The demo
/// publish key (`demo_key`, "" = none) is filled in only for loopback visitors.
Response demo_page(const Request& req, std::string_view demo_key);

/// /admin and /admin/…: admin::admin_page for the path after "/admin/" and
/// Request::local_visitor, as a response; 404 when it names no file.
Response admin_file(const Request& req, const admin::AdminSite& site);

} // namespace ssecast::http
