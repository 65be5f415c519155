// SPDX-License-Identifier: MIT
// Finds JSON numbers that Boost.JSON cannot keep exactly: it stores a number that is not an
// int64/uint64 as a double, so 1e400 became Infinity and a 30-digit integer lost digits.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

namespace ssecast::publish {

/// A number whose value changes on the way through a double.
struct InexactNumber {
    std::string text;                   ///< as written (cut to 40 characters)
    std::optional<std::size_t> element; ///< its index when the document is an array
};

/// Scans the valid JSON document `json` and returns the first number whose decimal value
/// differs from the value serialize() will write for it (out of double range, underflow to
/// 0, or more significant digits than the double keeps). 0.1, 1.0, 1e19 and every integer
/// within int64/uint64 are exact. nullopt when all numbers are exact or `json` is not valid
/// JSON (the caller has parsed it already). Thread-safe.
std::optional<InexactNumber> find_inexact_number(std::string_view json);

/// True when the JSON number text `written` and `shortest` (serialize()'s form of the
/// double parsed from it) denote the same decimal value. Exposed for the tests.
bool same_decimal(std::string_view written, std::string_view shortest);

} // namespace ssecast::publish
