// SPDX-License-Identifier: MIT
// SSE wire format only (WHATWG HTML §9.2): event frames, retry and heartbeat lines.
// @see https://html.spec.whatwg.org/multipage/server-sent-events.html
#pragma once

#include <chrono>
#include <string>
#include <string_view>

namespace ssecast::sse {

/// The heartbeat comment sent every sse.heartbeat_seconds.
inline constexpr std::string_view kHeartbeat = ": ping\n\n";

/// Encodes one event: "id: …\nevent: …\ndata: …\n…\n\n". CR, LF and NUL are removed from
/// `id` and `type` (they can never start a new field); `data` is split at every CRLF, CR
/// or LF into one "data:" line each, so no content can inject fields or events. An empty
/// `type` omits the event line (the client sees "message").
std::string encode_event(std::string_view id, std::string_view type, std::string_view data);

/// Bytes of the "id: …\n" line a frame of encode_event starts with (0 without one): what a
/// stream over several shards writes its own id line in place of (sse/shard_positions.hpp).
std::size_t id_line_size(std::string_view frame) noexcept;

/// "retry: <ms>\n\n".
std::string encode_retry(std::chrono::milliseconds retry);

/// True when `s` contains CR, LF or NUL (publish rejects such ids/types with 400).
bool has_line_break(std::string_view s) noexcept;

/// True when `s` contains any control character: C0 (incl. CR, LF, NUL, ESC), DEL, or a C1
/// control encoded in UTF-8 (U+0080..U+009F). Event types are names, never text with
/// controls in it; publish refuses them with 400.
bool has_control_character(std::string_view s) noexcept;

} // namespace ssecast::sse
