// SPDX-License-Identifier: MIT
// Parsers for the address-like config values the app needs at start-up: the listen
// address (http.listen), the Redis URL (redis.url) and trusted-proxy CIDRs.
#pragma once

#include "common/errc.hpp"

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace ssecast::config {

/// Splits a listen address into host and port. Accepted forms:
///   "127.0.0.1:8080", "[::1]:8080" (brackets are removed from the host),
///   "localhost:8080" (a DNS name; resolving it is the caller's job),
///   ":8080" (all IPv4 interfaces: host "0.0.0.0").
/// Port 0 is accepted and means "any free port". Returns errc::bad_request for anything
/// else (missing port, port > 65535, bad host characters, unbalanced brackets).
result<std::pair<std::string, std::uint16_t>> parse_listen(std::string_view text);

/// A host and port (DNS name or IP literal, IPv6 without brackets).
struct HostPort {
    std::string host;
    std::uint16_t port = 0;
    friend bool operator==(const HostPort&, const HostPort&) = default;
};

/// A Redis server address and credentials from `redis://[[user]:password@]host[:port][/db]`,
/// or the Sentinel group of `redis+sentinel://…/MASTER[/db]` (host and port then empty until
/// the sentinels name the master).
struct RedisEndpoint {
    std::string host; ///< DNS name or IP literal, IPv6 without brackets
    std::uint16_t port = 6379;
    unsigned db = 0;      ///< SELECT index
    std::string username; ///< ACL user (Redis 6+); "" = the default user
    std::string password; ///< "" = none in the URL (maybe redis.password or password_file)
    bool tls = false;     ///< rediss://
    std::vector<HostPort> sentinels; ///< redis+sentinel://: where to ask; empty otherwise
    std::string master;              ///< redis+sentinel://: the master's name at the sentinels
};

/// Parses `redis://[[user]:password@]host[:port][/db]`, or `rediss://…` for TLS (port defaults to
/// 6379, db to 0; an IPv6 host is written in brackets). User and password are percent-decoded (RFC
/// 3986 userinfo: `@ : / % ? #` in them must be written %40 %3A %2F %25 %3F %23); `user@host` names
/// a user whose password comes from redis.password or redis.password_file. Returns
/// errc::bad_request for another scheme, a malformed userinfo, query strings, an empty host, a port
/// outside 1..65535 or a db that is not a decimal number < 2^31.
///
/// Sentinel (SPEC §Redis in production):
/// `redis+sentinel://[[user]:password@]host[:port][,host[:port]...]/MASTER[/db]`, the
/// sentinels' port defaulting to 26379; the credentials are the master's. MASTER is a name
/// of letters, digits and `._-`.
result<RedisEndpoint> parse_redis_url(std::string_view url);

/// Where an outgoing HTTP request goes: `http[s]://host[:port][/path[?query]]`.
struct HttpEndpoint {
    std::string host; ///< DNS name or IP literal, IPv6 without brackets
    std::uint16_t port = 80;
    std::string target = "/"; ///< path and query, as written
    bool tls = false;         ///< https: certificate and host name verified
};

/// Parses an `http://` or `https://` URL (jwks_url, connect_url; the port defaults to 80 or
/// 443). Returns errc::bad_request for another scheme, credentials, a fragment, control
/// characters or spaces, an empty host or a port outside 1..65535.
result<HttpEndpoint> parse_http_url(std::string_view url);

/// `url` as it may be shown (logs, error messages, `config check`): the password replaced
/// by `***` (`redis://user:***@host:6379/2`). Works on any text, valid URL or not: all that
/// lies between `://` and the last `@` is userinfo, and only a user name before a `:` in it
/// survives, so a password is never shown even when the URL does not parse.
std::string redact_redis_url(std::string_view url);

/// True for an IPv4/IPv6 address ("10.1.2.3", "::1") or a CIDR block ("10.0.0.0/8",
/// "fd00::/8") whose prefix length fits the address family.
bool is_valid_cidr(std::string_view text);

} // namespace ssecast::config
