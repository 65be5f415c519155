// SPDX-License-Identifier: MIT
// Small string helpers shared by the parsers (headers, config values, forwarded chains).
#pragma once

#include <string_view>

namespace ssecast {

/// `s` without leading and trailing spaces and tabs (HTTP OWS, RFC 9110 §5.6.3).
constexpr std::string_view trim_ows(std::string_view s) noexcept {
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) {
        s.remove_prefix(1);
    }
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) {
        s.remove_suffix(1);
    }
    return s;
}

} // namespace ssecast
