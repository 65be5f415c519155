// SPDX-License-Identifier: MIT
// Bounded in-memory history.
#include "history/memory_history.hpp"

#include <algorithm>

namespace ssecast::history {

MemoryHistory::MemoryHistory(std::size_t max_events, std::chrono::seconds max_age,
                             const Clock& clock, sse::EventId lost_before)
    : max_events_(max_events), max_age_(max_age), clock_(clock),
      evicted_through_(lost_before.seq > 0  ? sse::EventId{lost_before.ms, lost_before.seq - 1}
                       : lost_before.ms > 0 ? sse::EventId{lost_before.ms - 1, ~std::uint64_t{0}}
                                            : sse::EventId{}) {}

void MemoryHistory::append(hub::EventPtr event) {
    const std::lock_guard lock(mutex_);
    events_.push_back(std::move(event));
    trim_locked(clock_.system_now());
}

void MemoryHistory::trim() {
    const std::lock_guard lock(mutex_);
    trim_locked(clock_.system_now());
}

void MemoryHistory::trim_locked(std::chrono::system_clock::time_point now) {
    while (!events_.empty() &&
           (events_.size() > max_events_ || now - events_.front()->published_at > max_age_)) {
        evicted_through_ = events_.front()->id;
        events_.pop_front();
    }
}

Replay MemoryHistory::after(sse::EventId after) const {
    Replay replay;
    const std::lock_guard lock(mutex_);
    replay.lost = after < evicted_through_;
    const auto first =
        std::upper_bound(events_.begin(), events_.end(), after,
                         [](const sse::EventId& id, const hub::EventPtr& e) { return id < e->id; });
    replay.events.assign(first, events_.end());
    return replay;
}

std::size_t MemoryHistory::size() const {
    const std::lock_guard lock(mutex_);
    return events_.size();
}

} // namespace ssecast::history
