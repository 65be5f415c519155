// SPDX-License-Identifier: MIT
// Rate-limit response headers (X-RateLimit-*, IETF httpapi draft structured fields).
#include "ratelimit/rate_limiter.hpp"

#include <fmt/format.h>

namespace ssecast::ratelimit {

std::vector<std::pair<std::string, std::string>>
rate_limit_headers(const Decision& d, std::string_view policy,
                   std::chrono::system_clock::time_point now) {
    std::vector<std::pair<std::string, std::string>> h;
    if (!d.limited) {
        return h;
    }
    // Round "now" up, not down: a Reset that is early by a fraction of a second would send a
    // client that trusts it straight into another refusal.
    const auto now_ceil = std::chrono::ceil<std::chrono::seconds>(now.time_since_epoch());
    const auto reset_unix = now_ceil + d.reset_after;
    h.emplace_back("X-RateLimit-Limit", std::to_string(d.limit));
    h.emplace_back("X-RateLimit-Remaining", std::to_string(d.remaining));
    h.emplace_back("X-RateLimit-Reset", std::to_string(reset_unix.count()));
    h.emplace_back("RateLimit-Policy",
                   fmt::format("\"{}\";q={};w={}", policy, d.limit, d.window.count()));
    h.emplace_back("RateLimit",
                   fmt::format("\"{}\";r={};t={}", policy, d.remaining, d.reset_after.count()));
    if (!d.allowed) {
        h.emplace_back("Retry-After", std::to_string(std::max<long>(1, d.retry_after.count())));
    }
    return h;
}

} // namespace ssecast::ratelimit
