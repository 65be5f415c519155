// SPDX-License-Identifier: MIT
// Request helpers and query-string decoding.
#include "http/request.hpp"

namespace ssecast::http {

std::string_view Request::param(std::string_view name) const {
    for (const auto& [k, v] : query) {
        if (k == name) {
            return v;
        }
    }
    return {};
}

std::vector<std::string_view> Request::params(std::string_view name) const {
    std::vector<std::string_view> out;
    for (const auto& [k, v] : query) {
        if (k == name) {
            out.push_back(v);
        }
    }
    return out;
}

std::string_view Request::header(const std::string& lower_name) const {
    const auto it = headers.find(lower_name);
    return it == headers.end() ? std::string_view() : std::string_view(it->second);
}

bool Request::local_visitor() const {
    return peer_is_loopback && !headers.contains("x-forwarded-for") &&
           !headers.contains("forwarded") && !headers.contains("x-real-ip");
}

namespace {
int hex(char c) {
    if (c >= '0' && c <= '9') {
        return c - '0';
    }
    if (c >= 'a' && c <= 'f') {
        return c - 'a' + 10;
    }
    if (c >= 'A' && c <= 'F') {
        return c - 'A' + 10;
    }
    return -1;
}

std::string decode(std::string_view s) {
    std::string out;
    out.reserve(s.size());
    for (std::size_t i = 0; i < s.size(); ++i) {
        if (s[i] == '+') {
            out.push_back(' ');
        } else if (s[i] == '%' && i + 2 < s.size() + 0 && hex(s[i + 1]) >= 0 &&
                   hex(s[i + 2]) >= 0) {
            out.push_back(static_cast<char>(hex(s[i + 1]) * 16 + hex(s[i + 2])));
            i += 2;
        } else {
            out.push_back(s[i]);
        }
    }
    return out;
}
} // namespace

std::vector<std::pair<std::string, std::string>> parse_query(std::string_view query) {
    std::vector<std::pair<std::string, std::string>> out;
    while (!query.empty()) {
        const auto amp = query.find('&');
        const std::string_view part = query.substr(0, amp);
        if (!part.empty()) {
            const auto eq = part.find('=');
            if (eq == std::string_view::npos) {
                out.emplace_back(decode(part), std::string());
            } else {
                out.emplace_back(decode(part.substr(0, eq)), decode(part.substr(eq + 1)));
            }
        }
        if (amp == std::string_view::npos) {
            break;
        }
        query.remove_prefix(amp + 1);
    }
    return out;
}

} // namespace ssecast::http
