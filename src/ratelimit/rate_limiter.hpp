// SPDX-License-Identifier: MIT
// RateLimiter: may this identifier use this endpoint now? Sliding windows per
// [[rate_limit]] rule (SPEC §Rate limiting). Memory and Redis backends implement it.
#pragma once

#include "config/config.hpp"

#include <chrono>
#include <cstdint>
#include <functional>
#include <string>
#include <utility>
#include <vector>

namespace ssecast::ratelimit {

/// Who is asking, for which endpoint.
struct Check {
    config::RateLimitEndpoint endpoint = config::RateLimitEndpoint::sse;
    std::string user_id; ///< "" when anonymous
    std::string ip;
};

/// The verdict, describing the policy closest to refusal (SPEC: headers of that one).
struct Decision {
    bool limited = false; ///< some rule applies to this endpoint (headers are due)
    bool allowed = true;
    std::uint32_t limit = 0;
    std::uint32_t remaining = 0;
    std::chrono::seconds window{0};
    std::chrono::seconds reset_after{0}; ///< until the window frees a slot / resets
    std::chrono::seconds retry_after{0}; ///< when refused: earliest useful retry
};

/// Thread-safe. check() completes exactly once, on any thread; it never fails: when its
/// backend is down it decides from a local fallback (never "unlimited").
class RateLimiter {
  public:
    using Done = std::function<void(Decision)>;
    virtual ~RateLimiter() = default;
    /// True when some rule covers `endpoint` (so the caller can skip check() entirely).
    virtual bool covers(config::RateLimitEndpoint endpoint) const noexcept = 0;
    virtual void check(const Check& check, Done done) = 0;
    /// True while a global (Redis) limiter decides per instance because its backend is
    /// unreachable (the monitor's rateLimit.mode "local-fallback"). Thread-safe.
    virtual bool local_fallback() const noexcept { return false; }
};

/// No rules configured: everything allowed, no headers.
class NoRateLimiter final : public RateLimiter {
  public:
    bool covers(config::RateLimitEndpoint) const noexcept override { return false; }
    void check(const Check&, Done done) override { done(Decision{}); }
};

/// X-RateLimit-* and the IETF RateLimit/RateLimit-Policy fields for `d`; adds Retry-After
/// when refused. `policy` is the endpoint name ("sse"/"publish").
std::vector<std::pair<std::string, std::string>>
rate_limit_headers(const Decision& d, std::string_view policy,
                   std::chrono::system_clock::time_point now);

} // namespace ssecast::ratelimit
