// SPDX-License-Identifier: MIT
// The id of a stream that reads several Redis shards (redis.shards): where it stands on each,
// "<shard>:<ms>-<seq>,<shard>:<ms>-<seq>…" in shard order (SPEC §POST /publish: an id may
// carry a position per shard). Each event's frame goes out with the positions after it, so
// the one Last-Event-ID a browser sends back resumes every shard exactly (docs/redis.md
// §Shards). A stream on one shard keeps the plain "<ms>-<seq>" form (sse/event_id.hpp).
#pragma once

#include "sse/event_id.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace ssecast::sse {

class ShardPositions {
  public:
    /// At most this many entries in an id: more shards than any deployment has, and a
    /// bound on what a header makes us parse.
    static constexpr std::size_t kMaxShards = 64;

    /// Parses the composite form (at least one "<shard>:<id>" entry, shards strictly
    /// increasing, each below kMaxShards); nullopt for anything else, a plain id included.
    static std::optional<ShardPositions> parse(std::string_view text);

    /// Where the stream stands on `shard`; nullopt when the id says nothing about it.
    std::optional<EventId> at(std::uint16_t shard) const noexcept;
    /// Moves `shard` to `id` (adds the entry when it is new).
    void set(std::uint16_t shard, EventId id);
    /// Appends the composite form to `out` (no allocation once `out` has the capacity).
    void append_to(std::string& out) const;
    std::string str() const;
    bool empty() const noexcept { return entries_.empty(); }

  private:
    std::vector<std::pair<std::uint16_t, EventId>> entries_; ///< sorted by shard
};

} // namespace ssecast::sse
