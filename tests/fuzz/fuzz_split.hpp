// SPDX-License-Identifier: MIT
// Splits one fuzz input into fields at a separator byte, so one target can fuzz several
// arguments at once while the corpus stays plain text.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <string_view>
#include <vector>

namespace ssecast::fuzz {

/// Up to `n` parts of `data` separated by `sep`; the last part keeps any further `sep`
/// bytes. Missing parts are empty.
inline std::vector<std::string_view> split(const std::uint8_t* data, std::size_t size,
                                           std::size_t n, char sep = '\x1f') {
    std::string_view rest(reinterpret_cast<const char*>(data), size);
    std::vector<std::string_view> out;
    while (out.size() + 1 < n) {
        const auto at = rest.find(sep);
        if (at == std::string_view::npos) {
            break;
        }
        out.push_back(rest.substr(0, at));
        rest.remove_prefix(at + 1);
    }
    out.push_back(rest);
    out.resize(n);
    return out;
}

/// Aborts with a message: libFuzzer reports it as a crash and saves the input.
[[noreturn]] inline void fail(const char* what) {
    // stderr, unbuffered: a message left in stdout's buffer is lost with the trap (a CI log
    // once showed only "deadly signal").
    std::fprintf(stderr, "property violated: %s\n", what);
    __builtin_trap();
}

} // namespace ssecast::fuzz
