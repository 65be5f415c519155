// SPDX-License-Identifier: MIT
// UTF-8 repair for text that goes back out in JSON (error messages quoting the request).
#pragma once

#include <string>
#include <string_view>

namespace ssecast {

/// `text` with every byte sequence that is not well-formed UTF-8 (RFC 3629: no overlongs,
/// no surrogates, nothing above U+10FFFF) replaced by U+FFFD, so a JSON document that
/// quotes it is valid JSON. Valid input comes back unchanged. Pure.
std::string to_valid_utf8(std::string_view text);

/// At most `max_bytes` of `text` for a log line: valid UTF-8, with every C0 control
/// character and DEL written as \xNN, so input from a request or from Redis can neither
/// break a log line in two nor carry terminal escapes. Pure.
std::string log_excerpt(std::string_view text, std::size_t max_bytes);

} // namespace ssecast
