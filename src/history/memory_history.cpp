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
                                            : sse::EventId{}),
      newest_(evicted_through_) {}

bool on_topics(const std::vector<hub::TopicPattern>& topics, const hub::Event& event) noexcept {
    if (topics.empty()) {
        return true;
    }
    for (const auto& topic : event.topics) {
        for (const auto& pattern : topics) {
            if (pattern.matches(topic)) {
                return true;
            }
        }
    }
    return false;
}

void MemoryHistory::append(hub::EventPtr event) {
    const std::lock_guard lock(mutex_);
    newest_ = std::max(newest_, event->id);
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

Replay MemoryHistory::after(const ReplayQuery& q) const {
    Replay replay;
    const std::lock_guard lock(mutex_);
    if (q.after > newest_) {
        // SPEC §Publish ids: an id newer than anything assigned must not become a floor that
        // drops the next live events.
        replay.lost = true;
        replay.next_after = newest_;
        return replay;
    }
    replay.lost = q.after < evicted_through_;
    replay.next_after = q.after;
    auto it =
        std::upper_bound(events_.begin(), events_.end(), q.after,
                         [](const sse::EventId& id, const hub::EventPtr& e) { return id < e->id; });
    std::size_t scanned = 0;
    std::size_t bytes = 0;
    for (; it != events_.end() && scanned < q.max_scan && bytes < q.max_bytes; ++it, ++scanned) {
        if (on_topics(q.topics, **it)) {
            replay.events.push_back(*it);
            bytes += (*it)->frame.size();
        }
        replay.next_after = (*it)->id;
    }
    replay.more = it != events_.end();
    return replay;
}

std::size_t MemoryHistory::size() const {
    const std::lock_guard lock(mutex_);
    return events_.size();
}

} // namespace ssecast::history
