// SPDX-License-Identifier: MIT
// POST /publish body validation.
#include "http/publish_request.hpp"

#include "hub/topic.hpp"
#include "sse/encoder.hpp"

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include <fmt/format.h>

namespace ssecast::http {

namespace json = boost::json;

namespace {
std::optional<Failure> fail(errc code, std::string message) {
    return Failure{code, std::move(message)};
}

std::optional<Failure> read_string_list(const json::value& v, std::string_view field,
                                        std::vector<std::string>& out) {
    if (!v.is_array()) {
        return fail(errc::bad_request, fmt::format("{}: expected an array of strings", field));
    }
    for (std::size_t i = 0; i < v.as_array().size(); ++i) {
        const auto& item = v.as_array()[i];
        if (!item.is_string()) {
            return fail(errc::bad_request, fmt::format("{}[{}]: expected a string", field, i));
        }
        out.emplace_back(item.as_string());
    }
    return std::nullopt;
}

std::optional<Failure> parse_one(const json::value& v, std::string_view where,
                                 std::size_t max_event_bytes, const auth::Identity& who,
                                 hub::EventDraft& draft) {
    if (!v.is_object()) {
        return fail(errc::bad_request, fmt::format("{}: expected an object", where));
    }
    bool have_topics = false;
    for (const auto& [key, value] : v.as_object()) {
        const std::string field = fmt::format("{}{}", where, std::string_view(key));
        if (key == "topics") {
            if (auto f = read_string_list(value, field, draft.topics)) {
                return f;
            }
            have_topics = true;
        } else if (key == "topic") {
            if (!value.is_string()) {
                return fail(errc::bad_topic, fmt::format("{}: expected a string", field));
            }
            draft.topics.emplace_back(value.as_string());
            have_topics = true;
        } else if (key == "type") {
            if (!value.is_string()) {
                return fail(errc::bad_request, fmt::format("{}: expected a string", field));
            }
            draft.type = std::string(value.as_string());
            if (draft.type.empty() || draft.type.size() > 200 ||
                sse::has_control_character(draft.type)) {
                return fail(errc::bad_request,
                            fmt::format("{}: 1-200 characters, no control characters", field));
            }
        } else if (key == "data") {
            draft.data =
                value.is_string() ? std::string(value.as_string()) : json::serialize(value);
        } else if (key == "users") {
            if (auto f = read_string_list(value, field, draft.users)) {
                return f;
            }
        } else if (key == "id") {
            return fail(errc::bad_request,
                        fmt::format("{}: event ids are assigned by the server", field));
        } else {
            return fail(errc::bad_request, fmt::format("{}: unknown field", field));
        }
    }
    if (!have_topics || draft.topics.empty()) {
        return fail(errc::bad_topic,
                    fmt::format("{}topics: at least one topic is required", where));
    }
    for (std::size_t i = 0; i < draft.topics.size(); ++i) {
        if (!hub::is_valid_topic(draft.topics[i])) {
            return fail(
                errc::bad_topic,
                fmt::format("{}topics[{}]: 1-200 characters of [A-Za-z0-9._:/@-]", where, i));
        }
        if (!auth::Authenticator::may_publish(who, draft.topics[i])) {
            return fail(errc::forbidden, fmt::format("{}topics[{}]: not allowed to publish to '{}'",
                                                     where, i, draft.topics[i]));
        }
    }
    if (draft.data.size() > max_event_bytes) {
        return fail(errc::payload_too_large,
                    fmt::format("{}data: {} bytes, more than limits.max_event_bytes ({})", where,
                                draft.data.size(), max_event_bytes));
    }
    return std::nullopt;
}
} // namespace

std::optional<Failure> parse_publish(std::string_view body, std::size_t max_event_bytes,
                                     const auth::Identity& who, PublishBatch& out) {
    boost::system::error_code ec;
    const json::value root = json::parse(body, ec);
    if (ec) {
        return fail(errc::bad_json, fmt::format("invalid JSON: {}", ec.message()));
    }
    if (root.is_array()) {
        const auto& arr = root.as_array();
        if (arr.empty() || arr.size() > kMaxEventsPerPublish) {
            return fail(errc::bad_request,
                        fmt::format("expected 1 to {} events", kMaxEventsPerPublish));
        }
        out.array = true;
        out.drafts.resize(arr.size());
        for (std::size_t i = 0; i < arr.size(); ++i) {
            if (auto f = parse_one(arr[i], fmt::format("[{}].", i), max_event_bytes, who,
                                   out.drafts[i])) {
                return f;
            }
        }
        return std::nullopt;
    }
    out.drafts.resize(1);
    return parse_one(root, "", max_event_bytes, who, out.drafts[0]);
}

} // namespace ssecast::http
