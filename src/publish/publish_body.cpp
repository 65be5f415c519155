// SPDX-License-Identifier: MIT
// The publish body validator shared by POST /publish and the Redis ingest list.
#include "publish/publish_body.hpp"

#include "hub/topic.hpp"
#include "publish/lossless_json.hpp"
#include "sse/encoder.hpp"

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>

#include <fmt/format.h>

namespace ssecast::publish {

namespace json = boost::json;

namespace {

std::optional<Refusal> refuse(errc code, std::string message) {
    return Refusal{code, std::move(message)};
}

std::optional<Refusal> read_string_list(const json::value& v, std::string_view field,
                                        std::vector<std::string>& out) {
    if (!v.is_array()) {
        return refuse(errc::bad_request, fmt::format("{}: expected an array of strings", field));
    }
    for (std::size_t i = 0; i < v.as_array().size(); ++i) {
        const auto& item = v.as_array()[i];
        if (!item.is_string()) {
            return refuse(errc::bad_request, fmt::format("{}[{}]: expected a string", field, i));
        }
        out.emplace_back(item.as_string());
    }
    return std::nullopt;
}

std::optional<Refusal> parse_one(const json::value& v, std::string_view where, const Limits& limits,
                                 hub::EventDraft& draft) {
    if (!v.is_object()) {
        return refuse(errc::bad_request,
                      fmt::format("{}: expected an object",
                                  where.empty() ? "body" : where.substr(0, where.size() - 1)));
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
                return refuse(errc::bad_topic, fmt::format("{}: expected a string", field));
            }
            draft.topics.emplace_back(value.as_string());
            have_topics = true;
        } else if (key == "type") {
            if (!value.is_string()) {
                return refuse(errc::bad_request, fmt::format("{}: expected a string", field));
            }
            draft.type = std::string(value.as_string());
            if (!is_valid_type(draft.type)) {
                return refuse(errc::bad_request,
                              fmt::format("{}: 1-{} characters, no control characters", field,
                                          kMaxTypeChars));
            }
        } else if (key == "data") {
            draft.data =
                value.is_string() ? std::string(value.as_string()) : json::serialize(value);
        } else if (key == "users") {
            if (auto f = read_string_list(value, field, draft.users)) {
                return f;
            }
        } else if (key == "id") {
            return refuse(errc::bad_request,
                          fmt::format("{}: event ids are assigned by the server", field));
        } else {
            return refuse(errc::bad_request, fmt::format("{}: unknown field", field));
        }
    }
    if (!have_topics || draft.topics.empty()) {
        return refuse(errc::bad_topic,
                      fmt::format("{}topics: at least one topic is required", where));
    }
    for (std::size_t i = 0; i < draft.topics.size(); ++i) {
        if (!hub::is_valid_topic(draft.topics[i])) {
            return refuse(
                errc::bad_topic,
                fmt::format("{}topics[{}]: 1-200 characters of [A-Za-z0-9._:/@-]", where, i));
        }
    }
    if (draft.data.size() > limits.max_event_bytes) {
        return refuse(errc::payload_too_large,
                      fmt::format("{}data: {} bytes, more than limits.max_event_bytes ({})", where,
                                  draft.data.size(), limits.max_event_bytes));
    }
    return std::nullopt;
}

std::string lossy_message(const LossyPart& lost) {
    const std::string event = lost.element ? fmt::format("[{}]", *lost.element) : "";
    if (lost.kind == LossyPart::Kind::inexact_number) {
        return fmt::format("{}{}data: the number {} cannot be passed on exactly (out of range, or "
                           "more digits than a double keeps); send it as a JSON string",
                           event, event.empty() ? "" : ".", lost.text);
    }
    const std::string where = lost.in_data ? (event.empty() ? "data" : event + ".data")
                                           : (event.empty() ? "body" : event);
    return fmt::format("{}: the key \"{}\" appears twice in one object (only one value would be "
                       "passed on); JSON keys must be unique",
                       where, lost.text);
}

} // namespace

bool is_valid_type(std::string_view type) noexcept {
    return !type.empty() && type.size() <= kMaxTypeChars && !sse::has_control_character(type);
}

std::optional<Refusal> parse_body(std::string_view text, const Limits& limits, Body& out) {
    // Checked before parsing: an ingest item has no HTTP body_limit in front of it.
    if (text.size() > limits.max_body_bytes) {
        return refuse(errc::payload_too_large,
                      fmt::format("body: {} bytes, more than limits.max_body_bytes ({})",
                                  text.size(), limits.max_body_bytes));
    }
    boost::system::error_code ec;
    const json::value root = json::parse(text, ec);
    if (ec) {
        return refuse(errc::bad_json, fmt::format("invalid JSON: {}", ec.message()));
    }
    if (root.is_array()) {
        const auto& arr = root.as_array();
        if (arr.empty() || arr.size() > kMaxEventsPerBody) {
            return refuse(errc::bad_request, fmt::format("expected 1 to {} events, got {}",
                                                         kMaxEventsPerBody, arr.size()));
        }
        out.array = true;
        out.drafts.assign(arr.size(), hub::EventDraft{});
        for (std::size_t i = 0; i < arr.size(); ++i) {
            if (auto f = parse_one(arr[i], fmt::format("[{}].", i), limits, out.drafts[i])) {
                return f;
            }
        }
    } else {
        out.array = false;
        out.drafts.assign(1, hub::EventDraft{});
        if (auto f = parse_one(root, "", limits, out.drafts[0])) {
            return f;
        }
    }
    // What the DOM changed without a word: checked on the text, once the fields are valid
    // (so a number is in `data`, and a key either there or of the event object itself).
    if (auto lost = find_lossy_part(text)) {
        return refuse(errc::bad_request, lossy_message(*lost));
    }
    return std::nullopt;
}

} // namespace ssecast::publish
