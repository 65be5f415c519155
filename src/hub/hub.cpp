// SPDX-License-Identifier: MIT
// Local fan-out.
#include "hub/hub.hpp"

#include <algorithm>
#include <vector>

namespace ssecast::hub {

void Hub::add(Subscriber* sub) {
    subscribers_.insert(sub);
    for (const auto& p : sub->patterns()) {
        index_.add(p, sub);
    }
}

void Hub::remove(Subscriber* sub) {
    if (subscribers_.erase(sub) == 0) {
        return;
    }
    for (const auto& p : sub->patterns()) {
        index_.remove(p, sub);
    }
}

DispatchCounts Hub::dispatch(const EventPtr& event) {
    DispatchCounts counts;
    const std::uint64_t stamp = ++dispatch_seq_;
    const auto& users = event->users;
    for (const auto& topic : event->topics) {
        index_.for_each_match(topic, [&](Subscriber* sub) {
            if (sub->dispatch_stamp == stamp) {
                return; // matched through another pattern or topic already
            }
            sub->dispatch_stamp = stamp;
            if (!users.empty() &&
                std::find(users.begin(), users.end(), sub->user_id()) == users.end()) {
                return;
            }
            switch (sub->offer(event)) {
            case Subscriber::Offer::queued:
                ++counts.delivered;
                break;
            case Subscriber::Offer::overflow:
                ++counts.dropped;
                break;
            case Subscriber::Offer::filtered:
                break;
            }
        });
    }
    return counts;
}

void Hub::close_all(errc reason) {
    // close() wakes writers, which may remove() themselves later; copy first.
    const std::vector<Subscriber*> all(subscribers_.begin(), subscribers_.end());
    for (Subscriber* s : all) {
        s->close(reason);
    }
}

} // namespace ssecast::hub
