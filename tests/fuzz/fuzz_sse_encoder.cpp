// SPDX-License-Identifier: MIT
// Round trip: encode_event(id, type, data), then read the bytes back with a strict WHATWG
// event-stream parser; exactly one event must come back, with the data intact (CRLF and CR
// normalised to LF) and no field or event injected; composite ids round-trip.
// @see https://html.spec.whatwg.org/multipage/server-sent-events.html#event-stream-interpretation
#include "fuzz_split.hpp"
#include "sse/encoder.hpp"
#include "sse/shard_positions.hpp"

#include <string>
#include <vector>

namespace {

struct Parsed {
    std::string id;
    std::string type;
    std::string data;
};

struct StreamResult {
    std::vector<Parsed> events;
    std::string last_event_id;
    int retry_fields = 0;
    int unknown_fields = 0;
    int comments = 0;
};

/// WHATWG §9.2.6 over bytes: lines end at CRLF, CR or LF; a blank line dispatches.
StreamResult parse_stream(std::string_view s) {
    StreamResult r;
    std::string data;
    std::string type;
    if (s.starts_with("\xEF\xBB\xBF")) {
        s.remove_prefix(3);
    }
    std::size_t pos = 0;
    while (pos < s.size()) {
        const auto end = s.find_first_of("\r\n", pos);
        if (end == std::string_view::npos) {
            break; // an unterminated last line is discarded
        }
        const std::string_view line = s.substr(pos, end - pos);
        pos = end + 1;
        if (s[end] == '\r' && pos < s.size() && s[pos] == '\n') {
            ++pos;
        }
        if (line.empty()) { // dispatch
            if (!data.empty()) {
                data.pop_back(); // the trailing LF
                r.events.push_back({r.last_event_id, type.empty() ? "message" : type, data});
            }
            data.clear();
            type.clear();
            continue;
        }
        if (line.front() == ':') {
            ++r.comments;
            continue;
        }
        std::string_view name = line;
        std::string_view value;
        if (const auto colon = line.find(':'); colon != std::string_view::npos) {
            name = line.substr(0, colon);
            value = line.substr(colon + 1);
            if (value.starts_with(' ')) {
                value.remove_prefix(1);
            }
        }
        if (name == "event") {
            type = value;
        } else if (name == "data") {
            data.append(value);
            data.push_back('\n');
        } else if (name == "id") {
            if (value.find('\0') == std::string_view::npos) {
                r.last_event_id = value;
            }
        } else if (name == "retry") {
            ++r.retry_fields;
        } else {
            ++r.unknown_fields;
        }
    }
    return r;
}

std::string without(std::string_view s, std::string_view drop) {
    std::string out;
    for (char c : s) {
        if (drop.find(c) == std::string_view::npos) {
            out.push_back(c);
        }
    }
    return out;
}

std::string normalise_newlines(std::string_view s) {
    std::string out;
    for (std::size_t i = 0; i < s.size(); ++i) {
        if (s[i] == '\r') {
            out.push_back('\n');
            if (i + 1 < s.size() && s[i + 1] == '\n') {
                ++i;
            }
        } else {
            out.push_back(s[i]);
        }
    }
    return out;
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    using ssecast::fuzz::fail;
    const auto parts = ssecast::fuzz::split(data, size, 3);
    const std::string frame = ssecast::sse::encode_event(parts[0], parts[1], parts[2]);
    // The frame follows the retry line in a real stream; start it the same way so a BOM in
    // the id or type cannot be mistaken for the stream's own.
    const auto r = parse_stream("retry: 3000\n\n" + frame);
    if (r.events.size() != 1) {
        fail("not exactly one event");
    }
    if (r.retry_fields != 1 || r.unknown_fields != 0 || r.comments != 0) {
        fail("a field was injected");
    }
    const std::string want_id = without(parts[0], std::string_view("\r\n\0", 3));
    const std::string want_type = without(parts[1], std::string_view("\r\n\0", 3));
    const auto& ev = r.events[0];
    if (ev.data != normalise_newlines(parts[2])) {
        fail("data changed");
    }
    if (!parts[0].empty() && ev.id != want_id) {
        fail("id changed");
    }
    if (ev.type != (want_type.empty() ? "message" : want_type)) {
        fail("type changed");
    }
    if (ssecast::sse::has_line_break(want_id) || ssecast::sse::has_line_break(want_type)) {
        fail("has_line_break disagrees with the encoder");
    }
    // A stream over several shards writes its own id line in place of this many bytes.
    if (ssecast::sse::id_line_size(frame) != (parts[0].empty() ? 0 : 5 + want_id.size())) {
        fail("id_line_size is not the id line");
    }
    // Composite ids (a Last-Event-ID from anyone): what parses writes back to itself.
    if (const auto p = ssecast::sse::ShardPositions::parse(parts[0])) {
        const auto again = ssecast::sse::ShardPositions::parse(p->str());
        if (!again || again->str() != p->str() || p->str().find('\n') != std::string::npos) {
            fail("composite id does not round-trip");
        }
    }
    return 0;
}
