// SPDX-License-Identifier: MIT
// How streams end for a reason (token expired, admin disconnect): the closing frames and
// the per-shard disconnect order. The writer's side of ending is in event_stream.cpp.
#include "http/stream_endings.hpp"

#include "sse/encoder.hpp"

#include <charconv>
#include <memory>
#include <vector>

namespace ssecast::http {

const hub::EventPtr& token_expired_frame() {
    static const hub::EventPtr frame = [] {
        auto e = std::make_shared<hub::Event>();
        e->type = "ssecast.token-expired";
        e->frame = sse::encode_event("", e->type, "{}");
        return e;
    }();
    return frame;
}

const hub::EventPtr& disconnected_frame() {
    static const hub::EventPtr frame = [] {
        auto e = std::make_shared<hub::Event>();
        e->type = "ssecast.disconnected";
        e->frame = sse::encode_event("", e->type, "{}");
        return e;
    }();
    return frame;
}

std::size_t disconnect_streams(hub::Shard& shard, const broker::DisconnectOrder& order,
                               std::string_view instance_id) {
    std::uint64_t connection = 0;
    if (!order.connection.empty()) {
        // Only this instance's records: "<instance_id>:<n>".
        const std::string_view c = order.connection;
        if (c.size() <= instance_id.size() + 1 || !c.starts_with(instance_id) ||
            c[instance_id.size()] != ':') {
            return 0;
        }
        const std::string_view n = c.substr(instance_id.size() + 1);
        const auto [end, ec] = std::from_chars(n.data(), n.data() + n.size(), connection);
        if (ec != std::errc() || end != n.data() + n.size() || connection == 0) {
            return 0;
        }
    }
    std::vector<hub::Subscriber*> matched;
    shard.hub().for_each([&](hub::Subscriber& s) {
        const bool hit = connection != 0 ? s.connection_id == connection
                                         : !order.user.empty() && s.user_id() == order.user;
        if (hit && !s.ending() && !s.closed()) {
            matched.push_back(&s);
        }
    });
    // finish() may write and close, never remove from the hub: the pointers hold.
    for (auto* s : matched) {
        s->finish(disconnected_frame(), errc::forbidden);
    }
    shard.counters().add(shard.counters().disconnected, matched.size());
    return matched.size();
}

} // namespace ssecast::http
