// SPDX-License-Identifier: MIT
#include "broker/shard_map.hpp"

#include <algorithm>
#include <stdexcept>

namespace ssecast::broker {

ShardMap::ShardMap(std::size_t count) : count_(count) {
    if (count == 0) {
        throw std::invalid_argument("ShardMap: at least one shard");
    }
}

std::string_view ShardMap::shard_key(std::string_view topic) noexcept {
    return topic.substr(0, topic.find('/'));
}

std::uint64_t ShardMap::fnv1a64(std::string_view text) noexcept {
    std::uint64_t h = 14695981039346656037ULL;
    for (const char c : text) {
        h ^= static_cast<unsigned char>(c);
        h *= 1099511628211ULL;
    }
    return h;
}

std::size_t ShardMap::jump(std::uint64_t key, std::size_t buckets) noexcept {
    // "A Fast, Minimal Memory, Consistent Hash Algorithm" (Lamping, Veach 2014).
    std::int64_t b = -1;
    std::int64_t j = 0;
    while (j < static_cast<std::int64_t>(buckets)) {
        b = j;
        key = key * 2862933555777941757ULL + 1;
        j = static_cast<std::int64_t>(
            static_cast<double>(b + 1) *
            (static_cast<double>(1LL << 31) / static_cast<double>((key >> 33) + 1)));
    }
    return static_cast<std::size_t>(b);
}

std::size_t ShardMap::of_topic(std::string_view topic) const noexcept {
    return count_ == 1 ? 0 : jump(fnv1a64(shard_key(topic)), count_);
}

std::vector<std::size_t> ShardMap::of_pattern(const hub::TopicPattern& pattern) const {
    if (pattern.is_prefix() && pattern.key().find('/') == std::string::npos) {
        std::vector<std::size_t> all(count_);
        for (std::size_t i = 0; i < count_; ++i) {
            all[i] = i;
        }
        return all; // "*": every topic, on every shard
    }
    return {of_topic(pattern.key())};
}

std::vector<std::size_t>
ShardMap::of_patterns(const std::vector<hub::TopicPattern>& patterns) const {
    std::vector<std::size_t> out;
    for (const auto& p : patterns) {
        for (const auto s : of_pattern(p)) {
            out.push_back(s);
        }
    }
    std::sort(out.begin(), out.end());
    out.erase(std::unique(out.begin(), out.end()), out.end());
    return out;
}

} // namespace ssecast::broker
