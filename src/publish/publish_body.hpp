// SPDX-License-Identifier: MIT
// The publish body format (SPEC §Publish), validated in one place for every way in: POST
// /publish and the Redis ingest list (STYLE: one validator per format). No I/O.
#pragma once

#include "common/errc.hpp"
#include "hub/event.hpp"

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace ssecast::publish {

/// Most events accepted in one array body (HTTP and ingest alike).
inline constexpr std::size_t kMaxEventsPerBody = 1000;
/// Longest event type.
inline constexpr std::size_t kMaxTypeChars = 200;

/// The rule for an event type: 1..kMaxTypeChars bytes, no control character (C0, DEL, C1).
/// Also applied to events read back from Redis (redis/event_codec.cpp).
bool is_valid_type(std::string_view type) noexcept;

/// The limits a body is checked against (from config::LimitsConfig).
struct Limits {
    std::size_t max_body_bytes = 1024 * 1024; ///< the whole body (errc::payload_too_large)
    std::size_t max_event_bytes = 64 * 1024;  ///< one event's data in wire form (same)
};

/// Why a body was refused: the condition and a sentence that names the field
/// ("[3].type: 1-200 characters, no control characters").
struct Refusal {
    errc code = errc::bad_request;
    std::string message;
};

/// A valid body: one draft per event, in body order.
struct Body {
    std::vector<hub::EventDraft> drafts;
    bool array = false; ///< the body was an array (HTTP answers {"ids": [...]})
};

/// Parses and checks `text`: a JSON object or an array of 1..kMaxEventsPerBody objects,
/// each with `topics` (array of strings) and/or `topic` (string), at least one, every one a
/// valid topic name; optional `type` (default "message", 1..kMaxTypeChars, no control
/// character: C0, DEL or C1); optional `data` (a JSON string is taken raw, anything else as
/// compact JSON, at most `limits.max_event_bytes` in that form; a number that the compact
/// JSON cannot carry exactly, such as 1e400 or a 30-digit integer, is refused); optional
/// `users` (array of strings). Any other field, `id` included, is refused. Permissions are
/// not checked here (the caller knows who publishes).
/// Returns nullopt and fills `out`, or the first Refusal (bad_json, bad_request, bad_topic,
/// payload_too_large); `out` is unspecified then. Thread-safe (no shared state).
std::optional<Refusal> parse_body(std::string_view text, const Limits& limits, Body& out);

} // namespace ssecast::publish
