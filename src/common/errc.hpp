// SPDX-License-Identifier: MIT
// The expected-failure vocabulary of ssecast: one value per condition a client or the
// environment can cause. http/error_reply.cpp maps each to an HTTP status + JSON code.
#pragma once

#include <boost/system/error_code.hpp>
#include <boost/system/result.hpp>

#include <string_view>
#include <system_error>

namespace ssecast {

/// Every condition that is answered with an error instead of an exception.
/// Values are stable: they appear in logs and metrics.
enum class errc {
    ok = 0,
    bad_request,          ///< malformed request or field (400 bad_request)
    bad_json,             ///< body is not valid JSON (400 bad_json)
    bad_topic,            ///< topic missing or invalid (400 bad_topic)
    bad_event_id,         ///< Last-Event-ID cannot be parsed (400 bad_event_id)
    unauthorized,         ///< token missing, malformed, expired, bad signature (401)
    forbidden,            ///< identity valid but not allowed here (403)
    not_found,            ///< no such route (404)
    method_not_allowed,   ///< route exists, method does not (405)
    payload_too_large,    ///< body or event over its limit (413)
    header_too_large,     ///< request head over http.max_header_bytes (431)
    rate_limited,         ///< a [[rate_limit]] policy refused the request (429)
    too_many_connections, ///< over limits.max_connections_per_user (429)
    over_capacity,        ///< over limits.max_connections (503)
    draining,             ///< shutting down, come back elsewhere (503)
    backend_unavailable,  ///< Redis cannot take the event right now (503)
    timeout,              ///< a backend call did not answer in time (503)
    slow_consumer,        ///< subscriber queue overflowed; connection cut (no reply)
    internal,             ///< a bug; logged and counted (500)
    /// A JWT names a `kid` no configured key has (yet): 401 `unauthorized`, after one
    /// JWKS refresh when auth.jwks_url allows it (SPEC §Keys).
    unknown_key,
    blocked,          ///< the user was disconnected with block_seconds (403 blocked)
    auth_unavailable, ///< the connect hook is down, slow or answered nonsense (503)
};

/// The error category of ssecast::errc ("ssecast").
const boost::system::error_category& ssecast_category() noexcept;

inline boost::system::error_code make_error_code(errc e) noexcept {
    return {static_cast<int>(e), ssecast_category()};
}

/// Short stable name of an errc, used as the JSON "error" code ("bad_topic").
std::string_view to_string(errc e) noexcept;

/// A value or an error_code; the return type of every fallible domain call.
template <class T> using result = boost::system::result<T, boost::system::error_code>;

} // namespace ssecast

template <> struct boost::system::is_error_code_enum<ssecast::errc> : std::true_type {};
