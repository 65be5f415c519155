// SPDX-License-Identifier: MIT
// Event (de)serialisation for Redis.
#include "redis/event_codec.hpp"

#include "hub/topic.hpp"
#include "publish/publish_body.hpp"

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>

namespace ssecast::redis {

namespace json = boost::json;

namespace {

json::array to_array(const std::vector<std::string>& v) {
    json::array a;
    a.reserve(v.size());
    for (const auto& s : v) {
        a.emplace_back(s);
    }
    return a;
}

bool read_strings(const json::value* v, std::vector<std::string>& out) {
    if (v == nullptr) {
        return true;
    }
    if (!v->is_array()) {
        return false;
    }
    for (const auto& e : v->get_array()) {
        if (!e.is_string()) {
            return false;
        }
        out.emplace_back(e.get_string());
    }
    return true;
}

} // namespace

std::string encode_stored(const hub::EventDraft& draft, std::uint64_t published_ms) {
    json::object o;
    o["type"] = draft.type;
    o["topics"] = to_array(draft.topics);
    o["users"] = to_array(draft.users);
    if (!draft.covered_below.empty()) {
        o["below"] = to_array(draft.covered_below);
    }
    o["data"] = draft.data;
    o["ts"] = published_ms;
    return json::serialize(o);
}

result<StoredEvent> decode_stored(std::string_view text) {
    boost::system::error_code ec;
    const json::value v = json::parse(text, ec);
    if (ec || !v.is_object()) {
        return errc::bad_json;
    }
    const auto& o = v.get_object();
    StoredEvent out;
    const auto* type = o.if_contains("type");
    const auto* data = o.if_contains("data");
    if (type == nullptr || !type->is_string() || data == nullptr || !data->is_string() ||
        !read_strings(o.if_contains("topics"), out.draft.topics) ||
        !read_strings(o.if_contains("users"), out.draft.users) ||
        !read_strings(o.if_contains("below"), out.draft.covered_below)) {
        return errc::bad_json;
    }
    out.draft.type = std::string(type->get_string());
    out.draft.data = std::string(data->get_string());
    // The channel is writable by anyone with Redis access: the rules of the publish body
    // hold for what is read back too (STYLE: one validator per format).
    if (!publish::is_valid_type(out.draft.type) || out.draft.topics.empty()) {
        return errc::bad_json;
    }
    for (const auto* list : {&out.draft.topics, &out.draft.covered_below}) {
        for (const auto& t : *list) {
            if (!hub::is_valid_topic(t)) {
                return errc::bad_json;
            }
        }
    }
    if (const auto* ts = o.if_contains("ts"); ts != nullptr && ts->is_number()) {
        out.published_ms = ts->to_number<std::uint64_t>(ec);
    }
    return out;
}

hub::EventPtr to_event(sse::EventId id, const StoredEvent& stored, std::uint16_t shard) {
    const auto sys_now = std::chrono::system_clock::now();
    const auto steady_now = std::chrono::steady_clock::now();
    auto published_at = sys_now;
    auto received_at = steady_now;
    if (stored.published_ms != 0) {
        published_at = std::chrono::system_clock::time_point(
            std::chrono::milliseconds(static_cast<std::int64_t>(stored.published_ms)));
        const auto age = sys_now - published_at;
        if (age > std::chrono::system_clock::duration::zero() && age < std::chrono::minutes(1)) {
            received_at = steady_now - std::chrono::duration_cast<std::chrono::nanoseconds>(age);
        }
    }
    return hub::make_event(id, stored.draft, published_at, received_at, shard);
}

} // namespace ssecast::redis
