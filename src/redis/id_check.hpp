// SPDX-License-Identifier: MIT
// Ids read back from Redis (events channel, stream entries, script replies) are outside
// input: anyone who can PUBLISH there could otherwise raise the id floor to 2^64-1 and wedge
// publishing on every instance (#12). Every such id enters through this check.
#pragma once

#include "sse/event_id.hpp"

#include <chrono>
#include <cstdint>
#include <string_view>

namespace ssecast::redis {

/// How far ahead of this host's clock an id read from Redis may be. Ids are Redis TIME
/// milliseconds, so a legitimate one is ahead only by the clock skew between hosts (or a
/// Redis clock that stepped back); an hour is far past any sane skew and still bounds how
/// far one bad message can move ids ahead.
inline constexpr std::chrono::milliseconds kMaxIdLead = std::chrono::hours(1);
/// How far ahead of Redis TIME the publish script lets a stored id (last-id key, the
/// stream's last id) be. Larger than kMaxIdLead by a margin for skew between this host's
/// clock and Redis': a floor this instance accepted (≤ its clock + kMaxIdLead) becomes a
/// stored id, which must not then be refused by a Redis whose clock is a little behind.
inline constexpr std::chrono::milliseconds kStoredIdLead = kMaxIdLead + std::chrono::minutes(10);
/// Largest `seq`: 2^53 - 1, exact in the Lua numbers the publish script computes with.
inline constexpr std::uint64_t kMaxIdSeq = (std::uint64_t{1} << 53) - 1;

enum class IdVerdict {
    ok,
    malformed, ///< not "<ms>-<seq>" in decimal digits, or seq > kMaxIdSeq
    ahead,     ///< ms more than kMaxIdLead after `now_ms`
};

/// "malformed" / "ahead" / "ok" for log lines.
std::string_view to_string(IdVerdict v) noexcept;

struct CheckedId {
    IdVerdict verdict = IdVerdict::malformed;
    sse::EventId id; ///< meaningful only when verdict == ok
};

/// Checks an id read from Redis against this host's wall clock `now_ms` (Unix ms): exactly
/// "<ms>-<seq>" (both parts, digits only, each within uint64), seq ≤ kMaxIdSeq, ms ≤
/// now_ms + kMaxIdLead. Only an `ok` id may raise an id floor or reach a subscriber.
/// Pure; thread-safe.
CheckedId check_redis_id(std::string_view text, std::uint64_t now_ms) noexcept;

/// One message of the events channel (or a stream entry in that form): "<id> <event JSON>".
struct ChannelMessage {
    CheckedId id;
    std::string_view body; ///< the event JSON, a view into the payload (empty if malformed)
};

/// Splits `payload` at its first space and checks the id with check_redis_id. A payload
/// without a space is `malformed`. The body is not decoded here (decode_stored does that).
ChannelMessage parse_channel_message(std::string_view payload, std::uint64_t now_ms) noexcept;

} // namespace ssecast::redis
