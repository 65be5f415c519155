// SPDX-License-Identifier: MIT
// Sliding-log window math, pure and backend-free: the memory limiter runs it in-process and
// src/redis/lua/sliding_window.lua mirrors it line for line in Redis (docs/rate-limiting.md).
#pragma once

#include "ratelimit/rate_limiter.hpp"

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

namespace ssecast::ratelimit {

/// Microseconds on one monotonic axis (steady clock in memory, Redis TIME in Lua).
using Micros = std::int64_t;

/// The verdict of one rule for one key.
struct WindowVerdict {
    bool allowed = true;
    std::uint32_t remaining = 0; ///< slots left after this request (0 when refused)
    Micros reset_after = 0;      ///< until the oldest counted request leaves the window
    Micros retry_after = 0;      ///< refused: until enough leave for one more; else 0
};

/// Index of the first entry of `log` (ascending) still inside the window at `now`: an
/// accepted request at time t counts while t > now - window (half-open window).
std::size_t first_in_window(std::span<const Micros> log, Micros now, Micros window) noexcept;

/// The pure decision. `log` holds this key's accepted request times in ascending order,
/// already pruned by first_in_window(). Accepted iff log.size() < limit; the caller then
/// appends `now` (and only then: a refused request is not counted). Never fails.
/// Guarantee: over any half-open interval of length `window`, at most `limit` accepted.
WindowVerdict decide(std::span<const Micros> log, Micros now, std::uint32_t limit,
                     Micros window) noexcept;

/// One rule that applies to a request, with the key that identifies its subject.
struct AppliedRule {
    std::size_t index = 0; ///< position in the configured rule list
    config::RateLimitRule rule;
    std::string key; ///< "<index>:u:<user>" or "<index>:ip:<ip>"; unique per rule
};

/// The rules of `rules` that cover `check.endpoint` and apply to this caller:
/// user_or_ip = the user id when authenticated, else the IP; ip = always the IP;
/// user = only authenticated callers (anonymous requests skip a `user` rule).
std::vector<AppliedRule> applicable_rules(std::span<const config::RateLimitRule> rules,
                                          const Check& check);

/// Seconds for a header: rounded up, so a client that waits that long is never early.
std::chrono::seconds ceil_seconds(Micros us) noexcept;

/// Folds per-rule verdicts (same order as `applied`) into the Decision the HTTP layer sees.
/// Allowed iff every rule allows. The headers describe the rule closest to refusal: when
/// refused, the refusing rule with the longest retry; else lowest remaining, tie → longest
/// reset. `applied` empty → Decision{} (not limited, no headers).
Decision combine(std::span<const AppliedRule> applied, std::span<const WindowVerdict> verdicts);

} // namespace ssecast::ratelimit
