// SPDX-License-Identifier: MIT
// Finds what Boost.JSON's DOM would silently change in a publish body. It stores a number
// that is not an int64/uint64 as a double, so 1e400 became Infinity and a 30-digit integer
// lost digits; and of a key written twice in one object it keeps the last, so the first
// value vanished without a word.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

namespace ssecast::publish {

/// A part of the document that would not reach subscribers as written.
struct LossyPart {
    enum class Kind {
        inexact_number, ///< its value changes on the way through a double
        duplicate_key,  ///< a second key of the same name in one object
    };
    Kind kind = Kind::inexact_number;
    std::string text;                   ///< the number or key (cut to 40 bytes)
    std::optional<std::size_t> element; ///< its event's index when the document is an array
    bool in_data = true; ///< false: a key of the event object itself ("topic", "data", ...)
};

/// Scans the valid JSON document `json` and returns the first lossy part: a number whose
/// decimal value differs from the value serialize() will write for it (out of double range,
/// underflow to 0, or more significant digits than the double keeps; 0.1, 1.0, 1e19 and
/// every integer within int64/uint64 are exact), or a key that appears twice in one object.
/// nullopt when there is none or `json` is not valid JSON (the caller has parsed it
/// already). Thread-safe.
std::optional<LossyPart> find_lossy_part(std::string_view json);

/// True when the JSON number text `written` and `shortest` (serialize()'s form of the
/// double parsed from it) denote the same decimal value. Exposed for the tests.
bool same_decimal(std::string_view written, std::string_view shortest);

} // namespace ssecast::publish
