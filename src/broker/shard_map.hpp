// SPDX-License-Identifier: MIT
// Which Redis shard a topic lives on (SPEC §Scaling out: several Redis shards). A topic's
// shard key is its name up to the first '/', so "orders", "orders/1" and every topic a
// prefix subscription "orders/*" can match live on one shard.
#pragma once

#include "hub/topic.hpp"

#include <cstddef>
#include <cstdint>
#include <string_view>
#include <vector>

namespace ssecast::broker {

/// Maps shard keys to shard indexes 0..count-1. Stable: the same key gets the same index
/// on every instance, every build and every platform (64-bit FNV-1a of the key, then
/// Lamping and Veach's jump consistent hash), and growing the list from N to N+1 shards
/// moves only about 1/(N+1) of the keys, all of them to the new last shard.
class ShardMap {
  public:
    explicit ShardMap(std::size_t count);

    std::size_t count() const noexcept { return count_; }
    /// "orders" for "orders/eu/1", "orders" for "orders".
    static std::string_view shard_key(std::string_view topic) noexcept;
    /// The shard of one exact topic.
    std::size_t of_topic(std::string_view topic) const noexcept;
    /// The shards whose topics `pattern` can match, ascending: one for an exact topic or a
    /// prefix with a '/' in it ("orders/*"), every shard for "*".
    std::vector<std::size_t> of_pattern(const hub::TopicPattern& pattern) const;
    /// The union over `patterns`, ascending and without repeats.
    std::vector<std::size_t> of_patterns(const std::vector<hub::TopicPattern>& patterns) const;

    /// The two hash steps, exposed for the unit test's fixed vectors.
    static std::uint64_t fnv1a64(std::string_view text) noexcept;
    static std::size_t jump(std::uint64_t key, std::size_t buckets) noexcept;

  private:
    std::size_t count_;
};

} // namespace ssecast::broker
