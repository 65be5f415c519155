// SPDX-License-Identifier: MIT
// Validation of a GET /events request (SPEC §Subscribe, §Resume) into what the stream
// needs: who, which patterns, where to resume. No I/O.
#pragma once

#include "auth/authenticator.hpp"
#include "http/failure.hpp"
#include "http/request.hpp"
#include "sse/event_id.hpp"
#include "sse/shard_positions.hpp"

#include <optional>
#include <string>
#include <vector>

namespace ssecast::http {

struct SubscribeRequest {
    auth::Identity who;
    std::vector<hub::TopicPattern> patterns;
    /// Last-Event-ID (header, or lastEventId / last_event_id query), as sent.
    std::optional<std::string> last_event_id;
    /// Parsed plain form ("<ms>-<seq>"); nullopt with last_event_id set = not plain.
    std::optional<sse::EventId> resume_from;
    /// Parsed composite form of a stream over several shards (sse/shard_positions.hpp);
    /// neither form = unknown id → history-lost. For a stream over several shards admission
    /// completes it before the watch: every shard the id names no position on starts at
    /// its newest id (start_positions in admission.cpp).
    std::optional<sse::ShardPositions> resume_positions;
    /// Admission had to fill in some shard's position although a Last-Event-ID was sent:
    /// the stream is told history-lost first.
    bool positions_filled_in = false;
};

/// 401 bad/missing token (errc::unknown_key for a JWT whose kid no key set has), 400
/// bad/missing/too many topics, 403 topic not allowed.
/// With `given` (the connect hook's answer) that identity is used instead of the request's
/// token, and its topics are enforced exactly like a JWT `subscribe` claim.
std::optional<Failure> parse_subscribe(const Request& req, const auth::Authenticator& auth,
                                       std::size_t max_topics, SubscribeRequest& out,
                                       const auth::Identity* given = nullptr);

} // namespace ssecast::http
