// SPDX-License-Identifier: MIT
// SSE frame encoding: one allocation per event, shared by every subscriber afterwards.
#include "sse/encoder.hpp"

namespace ssecast::sse {

namespace {
void append_field(std::string& out, std::string_view name, std::string_view value) {
    out.append(name);
    out.append(": ");
    for (char c : value) {
        if (c != '\r' && c != '\n' && c != '\0') {
            out.push_back(c);
        }
    }
    out.push_back('\n');
}
} // namespace

bool has_line_break(std::string_view s) noexcept {
    return s.find_first_of(std::string_view("\r\n\0", 3)) != std::string_view::npos;
}

bool has_control_character(std::string_view s) noexcept {
    for (std::size_t i = 0; i < s.size(); ++i) {
        const auto c = static_cast<unsigned char>(s[i]);
        if (c < 0x20 || c == 0x7F) {
            return true;
        }
        if (c == 0xC2 && i + 1 < s.size()) {
            const auto next = static_cast<unsigned char>(s[i + 1]);
            if (next >= 0x80 && next <= 0x9F) {
                return true;
            }
        }
    }
    return false;
}

std::size_t id_line_size(std::string_view frame) noexcept {
    if (!frame.starts_with("id: ")) {
        return 0;
    }
    const auto end = frame.find('\n');
    return end == std::string_view::npos ? 0 : end + 1;
}

std::string encode_event(std::string_view id, std::string_view type, std::string_view data) {
    std::string out;
    out.reserve(id.size() + type.size() + data.size() + 32);
    if (!id.empty()) {
        append_field(out, "id", id);
    }
    if (!type.empty()) {
        append_field(out, "event", type);
    }
    // A line ends at CRLF, CR or LF (the parser treats all three alike); each becomes its
    // own data line so the client rebuilds the text with LF separators.
    std::size_t start = 0;
    while (true) {
        const std::size_t end = data.find_first_of("\r\n", start);
        out.append("data: ");
        if (end == std::string_view::npos) {
            out.append(data.substr(start));
            out.push_back('\n');
            break;
        }
        out.append(data.substr(start, end - start));
        out.push_back('\n');
        start = end + 1;
        if (data[end] == '\r' && start < data.size() && data[start] == '\n') {
            ++start;
        }
    }
    out.push_back('\n');
    return out;
}

std::string encode_retry(std::chrono::milliseconds retry) {
    return "retry: " + std::to_string(retry.count()) + "\n\n";
}

} // namespace ssecast::sse
