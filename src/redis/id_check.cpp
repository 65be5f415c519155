// SPDX-License-Identifier: MIT
// The bound on ids read from Redis (docs/redis.md §Ids read from Redis).
#include "redis/id_check.hpp"

#include <charconv>
#include <limits>

namespace ssecast::redis {

namespace {
bool parse_digits(std::string_view s, std::uint64_t& out) noexcept {
    if (s.empty() || s.size() > 20 || s.find_first_not_of("0123456789") != std::string_view::npos) {
        return false;
    }
    const auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
    return ec == std::errc() && p == s.data() + s.size();
}
} // namespace

std::string_view to_string(IdVerdict v) noexcept {
    switch (v) {
    case IdVerdict::ok:
        return "ok";
    case IdVerdict::malformed:
        return "malformed";
    case IdVerdict::ahead:
        return "ahead";
    }
    return "malformed";
}

CheckedId check_redis_id(std::string_view text, std::uint64_t now_ms) noexcept {
    CheckedId out;
    const auto dash = text.find('-');
    if (dash == std::string_view::npos) {
        return out;
    }
    std::uint64_t ms = 0;
    std::uint64_t seq = 0;
    if (!parse_digits(text.substr(0, dash), ms) || !parse_digits(text.substr(dash + 1), seq) ||
        seq > kMaxIdSeq) {
        return out;
    }
    const auto lead = static_cast<std::uint64_t>(kMaxIdLead.count());
    const auto limit = now_ms > std::numeric_limits<std::uint64_t>::max() - lead
                           ? std::numeric_limits<std::uint64_t>::max()
                           : now_ms + lead;
    out.id = {ms, seq};
    out.verdict = ms > limit ? IdVerdict::ahead : IdVerdict::ok;
    return out;
}

ChannelMessage parse_channel_message(std::string_view payload, std::uint64_t now_ms) noexcept {
    ChannelMessage out;
    const auto space = payload.find(' ');
    if (space == std::string_view::npos) {
        return out;
    }
    out.id = check_redis_id(payload.substr(0, space), now_ms);
    if (out.id.verdict == IdVerdict::ok) {
        out.body = payload.substr(space + 1);
    }
    return out;
}

} // namespace ssecast::redis
