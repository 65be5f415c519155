// SPDX-License-Identifier: MIT
// One published event, encoded once into its SSE frame and then shared read-only by every
// subscriber, shard and the history (STYLE habit 2: encode once, share immutable bytes).
#pragma once

#include "sse/event_id.hpp"

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace ssecast::hub {

/// An immutable published event. Created once per publish; never mutated afterwards, so it
/// may be read from any thread without locks.
struct Event {
    sse::EventId id;
    std::string type;
    std::vector<std::string> topics; ///< exact topic names it was published to
    std::vector<std::string> users;  ///< delivery restricted to these user ids; empty = all
    /// Topics of the same publish that went to lower Redis shards (redis.shards): a stream
    /// matching one of them gets the event from there, so it reads one copy only.
    std::vector<std::string> covered_below;
    std::string frame; ///< the complete SSE wire bytes ("id: …\n…\n\n")
    std::chrono::system_clock::time_point published_at;
    std::chrono::steady_clock::time_point received_at; ///< for publish→write latency
    /// The Redis shard that assigned `id` (0 without redis.shards): ids of different shards
    /// are not ordered against each other.
    std::uint16_t shard = 0;
};

using EventPtr = std::shared_ptr<const Event>;

/// What a publisher hands in; the broker assigns the id and builds the Event.
struct EventDraft {
    std::vector<std::string> topics;
    std::string type = "message";
    std::string data; ///< already in its wire text form (raw string or compact JSON)
    std::vector<std::string> users;
    /// Set by broker::ShardedBroker on the copies it stores on higher shards (Event).
    std::vector<std::string> covered_below;
};

/// Builds the shared Event: encodes the frame with `id`, assigned by `shard`.
EventPtr make_event(sse::EventId id, const EventDraft& draft,
                    std::chrono::system_clock::time_point published_at,
                    std::chrono::steady_clock::time_point received_at, std::uint16_t shard = 0);

} // namespace ssecast::hub
