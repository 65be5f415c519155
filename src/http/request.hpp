// SPDX-License-Identifier: MIT
// Plain request/response values, so handlers stay free of Beast (only session.cpp sees it).
#pragma once

#include <map>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace ssecast::http {

/// Extra response header fields, in order.
using Headers = std::vector<std::pair<std::string, std::string>>;

/// A parsed request head and body. Header names are lower-case.
struct Request {
    std::string method; ///< "GET", "POST", ...
    std::string path;   ///< decoded path without the query ("/events")
    std::vector<std::pair<std::string, std::string>> query; ///< decoded, in order
    std::map<std::string, std::string> headers;             ///< lower-case names
    std::string body;
    std::string client_ip;         ///< after trusted-proxy resolution
    bool peer_is_loopback = false; ///< the TCP peer is on this machine

    /// True when the TCP peer is on this machine and no proxy forwarded the request on
    /// someone's behalf (no X-Forwarded-For, Forwarded or X-Real-IP, trusted or not): only
    /// then is the visitor local. A same-host proxy in front of ssecast is loopback too.
    bool local_visitor() const;

    /// First value of a query parameter, or "".
    std::string_view param(std::string_view name) const;
    /// Every value of a repeatable query parameter.
    std::vector<std::string_view> params(std::string_view name) const;
    /// Header value, or "".
    std::string_view header(const std::string& lower_name) const;
};

/// A complete (non-streaming) response.
struct Response {
    unsigned status = 200;
    std::string content_type = "application/json";
    std::vector<std::pair<std::string, std::string>> headers;
    std::string body;
};

/// Parses "a=1&b=%20x" (form-style '+' = space) into decoded pairs; malformed escapes are
/// kept literally.
std::vector<std::pair<std::string, std::string>> parse_query(std::string_view query);

} // namespace ssecast::http
