// SPDX-License-Identifier: MIT
// GET /events request validation.
#include "http/subscribe_request.hpp"

#include <fmt/format.h>

#include <algorithm>

namespace ssecast::http {

std::optional<Failure> parse_subscribe(const Request& req, const auth::Authenticator& auth,
                                       std::size_t max_topics, SubscribeRequest& out,
                                       const auth::Identity* given) {
    const auto access_tokens = req.params("access_token");
    auth::Credentials creds{req.header("authorization"), std::nullopt, req.header("cookie")};
    if (!access_tokens.empty()) {
        // Given twice: which one counts is ambiguous, so neither does (refused as malformed).
        creds.access_token = access_tokens.size() == 1 ? access_tokens.front() : std::string_view();
    }
    auto who =
        given != nullptr ? result<auth::Identity>(*given) : auth.authenticate(creds, req.client_ip);
    if (!who) {
        // unknown_key stays itself, so the session can refresh the JWKS once and ask again;
        // its reply is the same 401 `unauthorized`.
        const errc code = who.error() == errc::unknown_key ? errc::unknown_key : errc::unauthorized;
        return Failure{code, "A valid token is required (Authorization: Bearer, "
                             "access_token or the ssecast_token cookie)."};
    }
    out.who = std::move(*who);

    const auto topics = req.params("topic");
    if (topics.empty()) {
        return Failure{errc::bad_topic, "At least one topic query parameter is required."};
    }
    for (const auto& text : topics) {
        auto pattern = hub::TopicPattern::parse(text);
        if (!pattern) {
            return Failure{errc::bad_topic,
                           fmt::format("Invalid topic '{}': 1-200 characters of [A-Za-z0-9._:/@-], "
                                       "optionally ending in /*.",
                                       text.substr(0, 200))};
        }
        if (!auth::Authenticator::may_subscribe(out.who, *pattern)) {
            return Failure{errc::forbidden, fmt::format("Not allowed to subscribe to '{}'.", text)};
        }
        // sse.max_topics counts distinct topics: a repeated one costs nothing.
        if (std::find(out.patterns.begin(), out.patterns.end(), *pattern) != out.patterns.end()) {
            continue;
        }
        if (out.patterns.size() == max_topics) {
            return Failure{
                errc::bad_topic,
                fmt::format("At most {} topics per subscription (sse.max_topics).", max_topics)};
        }
        out.patterns.push_back(std::move(*pattern));
    }

    std::string_view last = req.header("last-event-id");
    if (last.empty()) {
        last = req.param("lastEventId");
    }
    if (last.empty()) {
        last = req.param("last_event_id");
    }
    if (!last.empty()) {
        out.last_event_id = std::string(last.substr(0, 100));
        out.resume_from = sse::EventId::parse(last);
        if (!out.resume_from) {
            out.resume_positions = sse::ShardPositions::parse(last);
        }
    }
    return std::nullopt;
}

} // namespace ssecast::http
