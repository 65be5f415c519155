// SPDX-License-Identifier: MIT
// Sliding-log window math; keep in step with src/redis/lua/sliding_window.lua.
#include "ratelimit/sliding_window.hpp"

#include <algorithm>

namespace ssecast::ratelimit {

std::size_t first_in_window(std::span<const Micros> log, Micros now, Micros window) noexcept {
    // Lua: ZREMRANGEBYSCORE key -inf (now - window) drops every t <= now - window.
    const auto it = std::upper_bound(log.begin(), log.end(), now - window);
    return static_cast<std::size_t>(it - log.begin());
}

WindowVerdict decide(std::span<const Micros> log, Micros now, std::uint32_t limit,
                     Micros window) noexcept {
    WindowVerdict v;
    const std::size_t count = log.size();
    if (count < limit) {
        v.allowed = true;
        v.remaining = static_cast<std::uint32_t>(limit - count - 1);
        // After this request is counted, the oldest one in the log frees the next slot.
        const Micros oldest = count == 0 ? now : log.front();
        v.reset_after = oldest + window - now;
        return v;
    }
    v.allowed = false;
    v.remaining = 0;
    // One more fits once count - limit + 1 entries have left: the (count - limit)-th one
    // (0-based) is the last of them. count > limit only if the limit shrank since.
    v.retry_after = log[count - limit] + window - now;
    v.reset_after = v.retry_after;
    return v;
}

std::vector<AppliedRule> applicable_rules(std::span<const config::RateLimitRule> rules,
                                          const Check& check) {
    std::vector<AppliedRule> out;
    for (std::size_t i = 0; i < rules.size(); ++i) {
        const auto& r = rules[i];
        if (r.endpoint != check.endpoint) {
            continue;
        }
        const bool has_user = !check.user_id.empty();
        std::string subject;
        switch (r.identifier) {
        case config::RateLimitIdentifier::user_or_ip:
            subject = has_user ? "u:" + check.user_id : "ip:" + check.ip;
            break;
        case config::RateLimitIdentifier::ip:
            subject = "ip:" + check.ip;
            break;
        case config::RateLimitIdentifier::user:
            if (!has_user) {
                continue; // documented: a `user` rule never limits anonymous callers
            }
            subject = "u:" + check.user_id;
            break;
        }
        out.push_back(AppliedRule{i, r, std::to_string(i) + ":" + subject});
    }
    return out;
}

std::chrono::seconds ceil_seconds(Micros us) noexcept {
    if (us <= 0) {
        return std::chrono::seconds(0);
    }
    return std::chrono::seconds((us + 999'999) / 1'000'000);
}

Decision combine(std::span<const AppliedRule> applied, std::span<const WindowVerdict> verdicts) {
    Decision d;
    if (applied.empty() || verdicts.size() != applied.size()) {
        return d;
    }
    const bool allowed = std::all_of(verdicts.begin(), verdicts.end(),
                                     [](const WindowVerdict& v) { return v.allowed; });
    std::size_t pick = verdicts.size();
    for (std::size_t i = 0; i < verdicts.size(); ++i) {
        const auto& v = verdicts[i];
        if (!allowed) {
            if (!v.allowed &&
                (pick == verdicts.size() || v.retry_after > verdicts[pick].retry_after)) {
                pick = i;
            }
            continue;
        }
        if (pick == verdicts.size() || v.remaining < verdicts[pick].remaining ||
            (v.remaining == verdicts[pick].remaining &&
             v.reset_after > verdicts[pick].reset_after)) {
            pick = i;
        }
    }
    const auto& v = verdicts[pick];
    d.limited = true;
    d.allowed = allowed;
    d.limit = applied[pick].rule.limit;
    d.remaining = v.remaining;
    d.window = applied[pick].rule.window;
    d.reset_after = ceil_seconds(v.reset_after);
    if (!allowed) {
        d.retry_after = std::max(std::chrono::seconds(1), ceil_seconds(v.retry_after));
    }
    return d;
}

} // namespace ssecast::ratelimit
