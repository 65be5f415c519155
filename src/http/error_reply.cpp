// SPDX-License-Identifier: MIT
// errc → status + JSON.
#include "http/error_reply.hpp"

#include "common/utf8.hpp"

#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>

namespace ssecast::http {

namespace {
struct Row {
    unsigned status;
    std::string_view message;
};

Row row(errc e) noexcept {
    switch (e) {
    case errc::ok:
        return {200, "ok"};
    case errc::bad_request:
        return {400, "The request is malformed."};
    case errc::bad_json:
        return {400, "The body is not valid JSON."};
    case errc::bad_topic:
        return {400, "A valid topic is required."};
    case errc::bad_event_id:
        return {400, "The last event id is malformed."};
    case errc::unauthorized:
        return {401, "A valid token is required."};
    case errc::forbidden:
        return {403, "This identity may not do that."};
    case errc::not_found:
        return {404, "No such endpoint."};
    case errc::method_not_allowed:
        return {405, "Method not allowed on this endpoint."};
    case errc::payload_too_large:
        return {413, "The body or an event is too large."};
    case errc::header_too_large:
        return {431, "The request head is too large."};
    case errc::rate_limited:
        return {429, "Rate limit exceeded; retry later."};
    case errc::too_many_connections:
        return {429, "Too many open streams for this user."};
    case errc::over_capacity:
        return {503, "The server is at its connection limit."};
    case errc::draining:
        return {503, "The server is shutting down; reconnect elsewhere."};
    case errc::backend_unavailable:
        return {503, "The event store is unavailable."};
    case errc::timeout:
        return {503, "The event store did not answer in time."};
    case errc::slow_consumer:
        return {503, "Too slow."};
    case errc::internal:
        return {500, "Internal error."};
    case errc::unknown_key:
        return {401, "A valid token is required (its key id is unknown)."};
    case errc::blocked:
        return {403, "This user is blocked for now."};
    case errc::auth_unavailable:
        return {503, "The authorisation service is unavailable; retry later."};
    }
    return {500, "Internal error."};
}
} // namespace

unsigned status_of(errc e) noexcept {
    return row(e).status;
}

Response error_reply(errc e, std::string_view message) {
    const Row r = row(e);
    Response res;
    res.status = r.status;
    boost::json::object body;
    body["error"] = to_string(e);
    // Messages quote the request (a bad topic, a field); what was not UTF-8 there must not
    // make the answer invalid JSON.
    body["message"] = message.empty() ? std::string(r.message) : to_valid_utf8(message);
    res.body = boost::json::serialize(body);
    return res;
}

Response error_reply(const boost::system::error_code& ec, std::string_view message) {
    if (ec.category() == ssecast_category()) {
        return error_reply(static_cast<errc>(ec.value()), message);
    }
    return error_reply(errc::internal, message);
}

} // namespace ssecast::http
