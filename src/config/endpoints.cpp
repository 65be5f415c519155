// SPDX-License-Identifier: MIT
// Listen-address, Redis-URL and CIDR parsing (no sockets, no DNS).
#include "config/endpoints.hpp"

#include <boost/url/parse.hpp>

#include <arpa/inet.h>

#include <algorithm>
#include <charconv>

namespace ssecast::config {
namespace {

/// Parses all of `text` as a decimal number ≤ max; no sign, no spaces.
template <class T> bool parse_decimal(std::string_view text, T max, T& out) {
    if (text.empty() || text.size() > 10) {
        return false;
    }
    std::uint64_t v = 0;
    const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
    if (ec != std::errc() || end != text.data() + text.size() || v > max) {
        return false;
    }
    out = static_cast<T>(v);
    return true;
}

bool is_ipv4(const std::string& s) {
    in_addr a{};
    return inet_pton(AF_INET, s.c_str(), &a) == 1;
}

bool is_ipv6(const std::string& s) {
    in6_addr a{};
    return inet_pton(AF_INET6, s.c_str(), &a) == 1;
}

/// A DNS name or IPv4 literal: letters, digits, '.', '-', '_'.
bool is_plain_host(std::string_view h) {
    if (h.empty() || h.size() > 253) {
        return false;
    }
    for (char c : h) {
        const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                        (c >= '0' && c <= '9') || c == '.' || c == '-' || c == '_';
        if (!ok) {
            return false;
        }
    }
    return true;
}

/// Splits "host:port" / "[v6]:port" / "host" into host and optional port text.
/// Returns false on unbalanced brackets or an invalid host.
bool split_host_port(std::string_view text, std::string& host, std::string_view& port,
                     bool& has_port) {
    has_port = false;
    if (text.starts_with('[')) {
        const auto close = text.find(']');
        if (close == std::string_view::npos) {
            return false;
        }
        host = std::string(text.substr(1, close - 1));
        if (!is_ipv6(host)) {
            return false;
        }
        const std::string_view rest = text.substr(close + 1);
        if (rest.empty()) {
            return true;
        }
        if (rest.front() != ':') {
            return false;
        }
        port = rest.substr(1);
        has_port = true;
        return true;
    }
    const auto colon = text.rfind(':');
    if (colon != std::string_view::npos) {
        if (text.find(':') != colon) {
            return false; // a bare IPv6 literal needs brackets
        }
        port = text.substr(colon + 1);
        has_port = true;
        text = text.substr(0, colon);
    }
    host = std::string(text);
    return is_plain_host(host);
}

} // namespace

result<std::pair<std::string, std::uint16_t>> parse_listen(std::string_view text) {
    std::string host;
    std::string_view port_text;
    bool has_port = false;
    if (text.starts_with(':')) {
        host = "0.0.0.0";
        port_text = text.substr(1);
        has_port = true;
    } else if (!split_host_port(text, host, port_text, has_port)) {
        return errc::bad_request;
    }
    std::uint16_t port = 0;
    if (!has_port || !parse_decimal<std::uint16_t>(port_text, 65535, port)) {
        return errc::bad_request;
    }
    return std::pair{std::move(host), port};
}

namespace {

/// The `[user[:password]]@` part of `url` (whose scheme ends at `scheme_end`) into `ep`;
/// `rest` is left after the '@'. False for a malformed or empty userinfo.
bool take_userinfo(std::string_view url, std::string_view& rest, RedisEndpoint& ep) {
    if (rest.find('@') == std::string_view::npos) {
        return true;
    }
    // Boost.URL does the RFC 3986 userinfo grammar and the percent-decoding. A sentinel URL's
    // comma-separated hosts are not an RFC 3986 authority, so only the userinfo is parsed.
    const auto at = rest.find('@');
    const std::string probe = std::string(url.substr(0, url.size() - rest.size())) +
                              std::string(rest.substr(0, at)) + "@h";
    const auto parsed = boost::urls::parse_uri(probe);
    if (!parsed || !parsed->has_userinfo()) {
        return false;
    }
    ep.username = parsed->user();
    ep.password = parsed->password();
    if (ep.username.empty() && ep.password.empty()) {
        return false; // "redis://@host" or "redis://:@host": say what you mean
    }
    rest = rest.substr(at + 1);
    return true;
}

bool take_db(std::string_view text, RedisEndpoint& ep) {
    return parse_decimal<unsigned>(text, 0x7fffffffU, ep.db);
}

/// "host[:port]" with `default_port`; false for a bad host or a port outside 1..65535.
bool take_host_port(std::string_view text, std::uint16_t default_port, HostPort& out) {
    std::string_view port_text;
    bool has_port = false;
    if (!split_host_port(text, out.host, port_text, has_port) || out.host.empty()) {
        return false;
    }
    out.port = default_port;
    return !has_port || (parse_decimal<std::uint16_t>(port_text, 65535, out.port) && out.port != 0);
}

bool is_master_name(std::string_view name) {
    return !name.empty() && name.size() <= 128 && std::all_of(name.begin(), name.end(), [](char c) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
               c == '.' || c == '-' || c == '_';
    });
}

/// After `redis+sentinel://[userinfo@]`: "h1[:p1],h2[:p2]/MASTER[/db]".
result<RedisEndpoint> parse_sentinel_rest(std::string_view rest, RedisEndpoint ep) {
    const auto slash = rest.find('/');
    if (slash == std::string_view::npos) {
        return errc::bad_request; // the master's name is required
    }
    std::string_view hosts = rest.substr(0, slash);
    std::string_view path = rest.substr(slash + 1);
    while (true) {
        const auto comma = hosts.find(',');
        HostPort hp;
        if (!take_host_port(hosts.substr(0, comma), 26379, hp)) {
            return errc::bad_request;
        }
        ep.sentinels.push_back(std::move(hp));
        if (comma == std::string_view::npos) {
            break;
        }
        hosts = hosts.substr(comma + 1);
    }
    const auto db_slash = path.find('/');
    ep.master = std::string(path.substr(0, db_slash));
    if (!is_master_name(ep.master) ||
        (db_slash != std::string_view::npos && !take_db(path.substr(db_slash + 1), ep))) {
        return errc::bad_request;
    }
    ep.host.clear();
    ep.port = 0;
    return ep;
}

} // namespace

result<RedisEndpoint> parse_redis_url(std::string_view url) {
    constexpr std::string_view kPlain = "redis://";
    constexpr std::string_view kTls = "rediss://";
    constexpr std::string_view kSentinel = "redis+sentinel://";
    RedisEndpoint ep;
    ep.tls = url.starts_with(kTls);
    const bool sentinel = url.starts_with(kSentinel);
    if ((!ep.tls && !sentinel && !url.starts_with(kPlain)) ||
        url.find_first_of("?#") != std::string_view::npos) {
        return errc::bad_request;
    }
    std::string_view rest = url.substr(ep.tls     ? kTls.size()
                                       : sentinel ? kSentinel.size()
                                                  : kPlain.size());
    if (!take_userinfo(url, rest, ep)) {
        return errc::bad_request;
    }
    if (sentinel) {
        return parse_sentinel_rest(rest, std::move(ep));
    }
    const auto slash = rest.find('/');
    if (slash != std::string_view::npos) {
        if (!take_db(rest.substr(slash + 1), ep)) {
            return errc::bad_request;
        }
        rest = rest.substr(0, slash);
    }
    HostPort hp;
    if (!take_host_port(rest, 6379, hp)) {
        return errc::bad_request;
    }
    ep.host = std::move(hp.host);
    ep.port = hp.port;
    return ep;
}

result<HttpEndpoint> parse_http_url(std::string_view url) {
    HttpEndpoint ep;
    std::string_view rest;
    if (url.starts_with("http://")) {
        rest = url.substr(7);
    } else if (url.starts_with("https://")) {
        rest = url.substr(8);
        ep.tls = true;
        ep.port = 443;
    } else {
        return errc::bad_request;
    }
    if (std::any_of(rest.begin(), rest.end(), [](char c) {
            return static_cast<unsigned char>(c) <= 0x20 || c == 0x7f || c == '#';
        })) {
        return errc::bad_request; // the target goes into a request line verbatim
    }
    const auto slash = rest.find_first_of("/?");
    if (slash != std::string_view::npos) {
        ep.target = std::string(rest.substr(slash));
        if (ep.target.front() == '?') {
            ep.target.insert(0, "/");
        }
        rest = rest.substr(0, slash);
    }
    if (rest.find('@') != std::string_view::npos) {
        return errc::bad_request;
    }
    std::string_view port_text;
    bool has_port = false;
    if (!split_host_port(rest, ep.host, port_text, has_port) || ep.host.empty()) {
        return errc::bad_request;
    }
    if (has_port && (!parse_decimal<std::uint16_t>(port_text, 65535, ep.port) || ep.port == 0)) {
        return errc::bad_request;
    }
    return ep;
}

std::string redact_redis_url(std::string_view url) {
    const auto scheme_end = url.find("://");
    const auto at = url.rfind('@');
    if (scheme_end == std::string_view::npos || at == std::string_view::npos ||
        at < scheme_end + 3) {
        return std::string(url);
    }
    const std::string_view userinfo = url.substr(scheme_end + 3, at - scheme_end - 3);
    const auto colon = userinfo.find(':');
    std::string out(url.substr(0, scheme_end + 3));
    // Without a ':' the userinfo may be a password written in the old "redis://secret@host"
    // form: hide all of it.
    out +=
        colon == std::string_view::npos ? "***" : std::string(userinfo.substr(0, colon)) + ":***";
    out += url.substr(at);
    return out;
}

bool is_valid_cidr(std::string_view text) {
    const auto slash = text.find('/');
    const std::string addr(text.substr(0, slash));
    unsigned max_bits = 0;
    if (is_ipv4(addr)) {
        max_bits = 32;
    } else if (is_ipv6(addr)) {
        max_bits = 128;
    } else {
        return false;
    }
    if (slash == std::string_view::npos) {
        return true;
    }
    unsigned bits = 0;
    return parse_decimal<unsigned>(text.substr(slash + 1), max_bits, bits);
}

} // namespace ssecast::config
