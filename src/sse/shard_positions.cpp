// SPDX-License-Identifier: MIT
#include "sse/shard_positions.hpp"

#include <algorithm>
#include <array>
#include <charconv>

namespace ssecast::sse {

std::optional<ShardPositions> ShardPositions::parse(std::string_view text) {
    ShardPositions out;
    while (!text.empty()) {
        const auto comma = text.find(',');
        const std::string_view entry = text.substr(0, comma);
        text = comma == std::string_view::npos ? std::string_view{} : text.substr(comma + 1);
        if (comma != std::string_view::npos && text.empty()) {
            return std::nullopt; // a trailing comma
        }
        const auto colon = entry.find(':');
        if (colon == std::string_view::npos || colon == 0) {
            return std::nullopt;
        }
        unsigned shard = 0;
        const auto* end = entry.data() + colon;
        const auto [ptr, ec] = std::from_chars(entry.data(), end, shard);
        if (ec != std::errc{} || ptr != end || shard >= kMaxShards ||
            (!out.entries_.empty() && shard <= out.entries_.back().first)) {
            return std::nullopt;
        }
        const auto id = EventId::parse(entry.substr(colon + 1));
        if (!id) {
            return std::nullopt;
        }
        out.entries_.emplace_back(static_cast<std::uint16_t>(shard), *id);
    }
    if (out.entries_.empty()) {
        return std::nullopt;
    }
    return out;
}

std::optional<EventId> ShardPositions::at(std::uint16_t shard) const noexcept {
    for (const auto& [s, id] : entries_) {
        if (s == shard) {
            return id;
        }
    }
    return std::nullopt;
}

void ShardPositions::set(std::uint16_t shard, EventId id) {
    const auto it = std::lower_bound(entries_.begin(), entries_.end(), shard,
                                     [](const auto& e, std::uint16_t s) { return e.first < s; });
    if (it != entries_.end() && it->first == shard) {
        it->second = id;
    } else {
        entries_.emplace(it, shard, id);
    }
}

void ShardPositions::append_to(std::string& out) const {
    std::array<char, 24> digits{};
    const auto number = [&](std::uint64_t n) {
        const auto [ptr, ec] = std::to_chars(digits.data(), digits.data() + digits.size(), n);
        out.append(digits.data(), ptr);
    };
    for (std::size_t i = 0; i < entries_.size(); ++i) {
        if (i > 0) {
            out += ',';
        }
        number(entries_[i].first);
        out += ':';
        number(entries_[i].second.ms);
        out += '-';
        number(entries_[i].second.seq);
    }
}

std::string ShardPositions::str() const {
    std::string out;
    append_to(out);
    return out;
}

} // namespace ssecast::sse
