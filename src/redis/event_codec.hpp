// SPDX-License-Identifier: MIT
// The event format shared by the Redis stream, the events channel and the ingest list
// (docs/redis.md §Keys and channels). Ingest items are the POST /publish body: see
// publish/publish_body.hpp.
#pragma once

#include "common/errc.hpp"
#include "hub/event.hpp"

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace ssecast::redis {

/// A decoded stored/published event.
struct StoredEvent {
    hub::EventDraft draft;
    std::uint64_t published_ms = 0; ///< when the publishing instance accepted it (Unix ms)
};

/// `{"type":..,"topics":[..],"users":[..],"data":"<wire text>","ts":<unix ms>}`, plus
/// `"below":[..]` on a copy that redis.shards stored on a higher shard
/// (hub::EventDraft::covered_below).
std::string encode_stored(const hub::EventDraft& draft, std::uint64_t published_ms);
/// Inverse of encode_stored; errc::bad_json for anything else, including a type or topic
/// that the publish body would refuse (publish::is_valid_type, hub::is_valid_topic).
result<StoredEvent> decode_stored(std::string_view json);

/// The shared Event for `id` (assigned by `shard`) and `stored`; the publish→write latency
/// clock starts at its publish time (translated to this host's steady clock).
hub::EventPtr to_event(sse::EventId id, const StoredEvent& stored, std::uint16_t shard);

} // namespace ssecast::redis
