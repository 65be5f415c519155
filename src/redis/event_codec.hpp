// SPDX-License-Identifier: MIT
// The event format shared by the Redis stream, the events channel and the ingest list
// (docs/redis.md §Formats).
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

/// `{"type":..,"topics":[..],"users":[..],"data":"<wire text>","ts":<unix ms>}`.
std::string encode_stored(const hub::EventDraft& draft, std::uint64_t published_ms);
/// Inverse of encode_stored; errc::bad_json for anything else.
result<StoredEvent> decode_stored(std::string_view json);

/// The shared Event for `id` and `stored`; the publish→write latency clock starts at its
/// publish time (translated to this host's steady clock).
hub::EventPtr to_event(sse::EventId id, const StoredEvent& stored);

/// Parses an ingest item, the POST /publish body format: one object or an array of
/// objects with `topics` (or `topic`), optional `type`, `data` (a JSON string is sent raw,
/// anything else as compact JSON) and `users`. Every topic must be valid and each event's
/// data at most `max_event_bytes`; errc::bad_request / bad_json / bad_topic /
/// payload_too_large otherwise (the whole item is refused).
result<std::vector<hub::EventDraft>> parse_ingest(std::string_view body,
                                                  std::size_t max_event_bytes);

} // namespace ssecast::redis
