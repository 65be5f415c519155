// SPDX-License-Identifier: MIT
// EventId parsing/formatting and the monotonic generator.
#include "sse/event_id.hpp"

#include <charconv>

namespace ssecast::sse {

namespace {
std::optional<std::uint64_t> parse_u64(std::string_view s) noexcept {
    if (s.empty() || s.size() > 20) {
        return std::nullopt;
    }
    std::uint64_t v = 0;
    const auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
    if (ec != std::errc() || p != s.data() + s.size()) {
        return std::nullopt;
    }
    return v;
}
} // namespace

std::optional<EventId> EventId::parse(std::string_view text) noexcept {
    const auto dash = text.find('-');
    if (dash == std::string_view::npos) {
        const auto ms = parse_u64(text);
        if (!ms) {
            return std::nullopt;
        }
        return EventId{*ms, 0};
    }
    const auto ms = parse_u64(text.substr(0, dash));
    const auto seq = parse_u64(text.substr(dash + 1));
    if (!ms || !seq) {
        return std::nullopt;
    }
    return EventId{*ms, *seq};
}

std::string EventId::str() const {
    return std::to_string(ms) + "-" + std::to_string(seq);
}

EventId EventIdGenerator::next(std::uint64_t now_ms) noexcept {
    if (now_ms > last_.ms) {
        last_ = {now_ms, 0};
    } else {
        last_ = last_.next();
    }
    return last_;
}

void EventIdGenerator::raise_floor(EventId floor) noexcept {
    if (floor > last_) {
        last_ = floor;
    }
}

} // namespace ssecast::sse
