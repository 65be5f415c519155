// SPDX-License-Identifier: MIT
// Building the shared Event.
#include "hub/event.hpp"

#include "sse/encoder.hpp"

namespace ssecast::hub {

EventPtr make_event(sse::EventId id, const EventDraft& draft,
                    std::chrono::system_clock::time_point published_at,
                    std::chrono::steady_clock::time_point received_at, std::uint16_t shard) {
    auto event = std::make_shared<Event>();
    event->id = id;
    event->type = draft.type;
    event->topics = draft.topics;
    event->users = draft.users;
    event->covered_below = draft.covered_below;
    event->frame = sse::encode_event(id.str(), draft.type, draft.data);
    event->published_at = published_at;
    event->received_at = received_at;
    event->shard = shard;
    return event;
}

} // namespace ssecast::hub
