// SPDX-License-Identifier: MIT
// Validation of a POST /publish body (SPEC §Publish) into event drafts. No I/O.
#pragma once

#include "auth/authenticator.hpp"
#include "http/failure.hpp"
#include "hub/event.hpp"

#include <optional>
#include <string_view>
#include <vector>

namespace ssecast::http {

/// Most events accepted in one array body.
inline constexpr std::size_t kMaxEventsPerPublish = 1000;

struct PublishBatch {
    std::vector<hub::EventDraft> drafts;
    bool array = false; ///< the body was an array: answer {"ids": [...]}
};

/// Parses and checks `body`: JSON object or non-empty array of objects with `topics` (or
/// `topic`), optional `type` (default "message", no CR/LF/NUL, ≤ 200 chars), `data` (a JSON
/// string is taken raw, anything else as compact JSON), optional `users`. Unknown fields are
/// refused so typos do not silently drop data. Each event's data is limited to
/// `max_event_bytes` (errc::payload_too_large), every topic must be one `who` may publish to
/// (errc::forbidden). Returns the batch or the first failure, naming the field.
std::optional<Failure> parse_publish(std::string_view body, std::size_t max_event_bytes,
                                     const auth::Identity& who, PublishBatch& out);

} // namespace ssecast::http
