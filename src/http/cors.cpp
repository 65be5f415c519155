// SPDX-License-Identifier: MIT
// CORS headers.
#include "http/cors.hpp"

#include <algorithm>

namespace ssecast::http {

Cors::Cors(std::vector<std::string> origins) {
    for (auto& o : origins) {
        if (o == "*") {
            any_origin_ = true;
        } else {
            origins_.push_back(std::move(o));
        }
    }
}

bool Cors::listed(std::string_view origin) const {
    return !origin.empty() && std::find(origins_.begin(), origins_.end(), origin) != origins_.end();
}

void Cors::apply(const Request& req, std::vector<std::pair<std::string, std::string>>& out) const {
    const std::string_view origin = req.header("origin");
    if (!origins_.empty()) {
        out.emplace_back("Vary", "Origin");
    }
    if (listed(origin)) {
        // Echoed with credentials, so cookies and Authorization work for this origin.
        out.emplace_back("Access-Control-Allow-Origin", std::string(origin));
        out.emplace_back("Access-Control-Allow-Credentials", "true");
    } else if (any_origin_) {
        // Sent on every answer, with or without Origin, so a shared cache never hands a
        // CORS request an answer without it.
        out.emplace_back("Access-Control-Allow-Origin", "*");
    } else {
        return;
    }
    out.emplace_back("Access-Control-Expose-Headers",
                     "X-RateLimit-Limit, X-RateLimit-Remaining, X-RateLimit-Reset, "
                     "RateLimit, RateLimit-Policy, Retry-After");
}

Response Cors::preflight(const Request& req) const {
    Response res;
    res.status = 204;
    res.content_type.clear();
    // The Allow-Origin fields are added once, by the response writer, like on every answer.
    if (listed(req.header("origin")) || any_origin_) {
        res.headers.emplace_back("Access-Control-Allow-Methods", "GET, POST, OPTIONS");
        res.headers.emplace_back("Access-Control-Allow-Headers",
                                 "Authorization, Content-Type, Last-Event-ID, Cache-Control");
        res.headers.emplace_back("Access-Control-Max-Age", "600");
    }
    return res;
}

} // namespace ssecast::http
