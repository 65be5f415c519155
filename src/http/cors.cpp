// SPDX-License-Identifier: MIT
// CORS headers.
#include "http/cors.hpp"

#include <algorithm>

namespace ssecast::http {

bool Cors::allowed(std::string_view origin) const {
    return !origin.empty() && std::any_of(origins_.begin(), origins_.end(),
                                          [&](const auto& o) { return o == "*" || o == origin; });
}

void Cors::apply(const Request& req, std::vector<std::pair<std::string, std::string>>& out) const {
    const std::string_view origin = req.header("origin");
    if (!allowed(origin)) {
        return;
    }
    // Echo the origin (not "*") so cookies and Authorization work with credentials.
    out.emplace_back("Access-Control-Allow-Origin", std::string(origin));
    out.emplace_back("Access-Control-Allow-Credentials", "true");
    out.emplace_back("Vary", "Origin");
    out.emplace_back("Access-Control-Expose-Headers",
                     "X-RateLimit-Limit, X-RateLimit-Remaining, X-RateLimit-Reset, "
                     "RateLimit, RateLimit-Policy, Retry-After");
}

Response Cors::preflight(const Request& req) const {
    Response res;
    res.status = 204;
    res.content_type.clear();
    // The Allow-Origin fields are added once, by the response writer, like on every answer.
    if (allowed(req.header("origin"))) {
        res.headers.emplace_back("Access-Control-Allow-Methods", "GET, POST, OPTIONS");
        res.headers.emplace_back("Access-Control-Allow-Headers",
                                 "Authorization, Content-Type, Last-Event-ID, Cache-Control");
        res.headers.emplace_back("Access-Control-Max-Age", "600");
    }
    return res;
}

} // namespace ssecast::http
