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
    std::erase(ready_, sub);
}

void Hub::flush_ready() {
    // notify() may close a subscriber (write error) but never removes it from the hub: that
    // happens later, when its stream coroutine ends. Swap first all the same.
    std::vector<Subscriber*> ready;
    ready.swap(ready_);
    for (Subscriber* s : ready) {
        s->notify();
    }
    if (ready_.empty()) {
        ready.clear();
        ready_.swap(ready); // keep the capacity for the next batch
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
            if (!event->covered_below.empty() && sub->reads_lower_copy(*event)) {
                return; // the copy on a lower shard reaches it (redis.shards)
            }
            const bool was_idle = sub->pending().empty();
            switch (sub->offer(event)) {
            case Subscriber::Offer::queued:
                ++counts.delivered;
                if (was_idle && !sub->pending().empty()) {
                    ready_.push_back(sub);
                }
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
