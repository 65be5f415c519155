// SPDX-License-Identifier: MIT
// Per-topic bounded history: retention, eviction bookkeeping and the per-topic replay merge.
#include "history/memory_history.hpp"

#include <algorithm>
#include <cstdint>
#include <limits>

namespace ssecast::history {

namespace {
/// Age trimming of other topics done by one append: amortised O(1) per event, and enough
/// to keep up with the rate that appends create trimming work, so trim() only mops up.
constexpr std::size_t kAppendTrimBudget = 4;
/// Evictions and record drops per trim() call: bounds how long one call holds the lock.
constexpr std::size_t kTrimBudget = 16 * 1024;

std::int64_t unix_ms(std::chrono::system_clock::time_point t) {
    return std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count();
}

/// The largest id below `id` ({} for {}).
sse::EventId before(sse::EventId id) {
    if (id.seq > 0) {
        return {id.ms, id.seq - 1};
    }
    if (id.ms > 0) {
        return {id.ms - 1, std::numeric_limits<std::uint64_t>::max()};
    }
    return {};
}
} // namespace

bool MemoryHistory::BySize::operator()(const Topic* a, const Topic* b) const noexcept {
    // The indexed size, not the live one: a topic changes size before it is re-indexed.
    if (a->indexed_size != b->indexed_size) {
        return a->indexed_size < b->indexed_size;
    }
    if (a->indexed_front != b->indexed_front) {
        return a->indexed_front > b->indexed_front;
    }
    return *a->name < *b->name;
}

bool MemoryHistory::ByDeadline::operator()(const Deadline& a, const Deadline& b) const noexcept {
    if (a.first != b.first) {
        return a.first < b.first;
    }
    return *a.second->name < *b.second->name;
}

MemoryHistory::MemoryHistory(std::size_t max_events, std::size_t max_total_events,
                             std::chrono::seconds max_age, const Clock& clock,
                             sse::EventId lost_before)
    : max_events_(max_events), max_total_events_(max_total_events), max_age_(max_age),
      clock_(clock), floor_(before(lost_before)), newest_(floor_), dropped_through_(floor_) {}

sse::EventId
MemoryHistory::no_record_bound_locked(std::chrono::system_clock::time_point now) const {
    const std::int64_t horizon_ms =
        unix_ms(now) - 2 * std::chrono::duration_cast<std::chrono::milliseconds>(max_age_).count() +
        std::chrono::duration_cast<std::chrono::milliseconds>(kIdLead).count();
    // Every event of a dropped record has ms < horizon_ms, i.e. id ≤ before({horizon_ms, 0}).
    const sse::EventId by_time =
        horizon_ms <= 0 ? sse::EventId{} : before({static_cast<std::uint64_t>(horizon_ms), 0});
    return std::min(by_time, dropped_through_);
}

MemoryHistory::Topic& MemoryHistory::record_locked(const std::string& name,
                                                   std::chrono::system_clock::time_point now) {
    auto it = topics_.find(name);
    if (it != topics_.end()) {
        return it->second;
    }
    it = topics_.emplace(name, Topic{}).first;
    Topic& t = it->second;
    t.name = &it->first;
    // An earlier record of this name may have been dropped: its events count as evicted.
    t.evicted_through = no_record_bound_locked(now);
    return t;
}

hub::EventPtr MemoryHistory::pop_locked(Topic& t) {
    hub::EventPtr gone = t.events.pop_front();
    t.evicted_through = std::max(t.evicted_through, gone->id);
    --total_;
    return gone;
}

void MemoryHistory::reindex_locked(Topic& t) {
    const std::size_t size = t.events.size();
    const sse::EventId front = size > 0 ? t.events.front()->id : sse::EventId{};
    if (t.indexed_size != size || t.indexed_front != front) {
        if (t.indexed_size > 0) {
            by_size_.erase(&t);
        }
        t.indexed_size = size;
        t.indexed_front = front;
        if (size > 0) {
            by_size_.insert(&t);
        }
    }
    // A record outlives its last event by 2 × max_age: the no-record rule relies on it.
    const auto deadline =
        t.events.empty() ? t.last_at + 2 * max_age_ : t.events.front()->published_at + max_age_;
    if (!t.in_deadlines || t.deadline != deadline) {
        if (t.in_deadlines) {
            deadlines_.erase({t.deadline, &t});
        }
        t.deadline = deadline;
        t.in_deadlines = true;
        deadlines_.insert({t.deadline, &t});
    }
}

void MemoryHistory::append(hub::EventPtr event) {
    const std::lock_guard lock(mutex_);
    const auto now = clock_.system_now();
    newest_ = std::max(newest_, event->id);
    for (const auto& name : event->topics) {
        Topic& t = record_locked(name, now);
        if (!t.events.empty() && t.events.back()->id >= event->id) {
            continue; // the same topic named twice in one event
        }
        t.events.push_back(event);
        ++total_;
        t.newest = event->id;
        t.last_at = event->published_at;
        if (t.events.size() > max_events_) {
            pop_locked(t);
        }
        while (!t.events.empty() && now - t.events.front()->published_at > max_age_) {
            pop_locked(t);
        }
        reindex_locked(t);
    }
    // SPEC §Resume: past max_total_events the oldest events of the largest topics go first.
    while (total_ > max_total_events_) {
        Topic& largest = **by_size_.rbegin();
        pop_locked(largest);
        reindex_locked(largest);
    }
    trim_locked(now, kAppendTrimBudget);
}

void MemoryHistory::trim() {
    const std::lock_guard lock(mutex_);
    trim_locked(clock_.system_now(), kTrimBudget);
}

void MemoryHistory::trim_locked(std::chrono::system_clock::time_point now, std::size_t budget) {
    // Oldest deadline first, so the work is what has expired, not the number of topics.
    while (budget > 0 && !deadlines_.empty() && now > deadlines_.begin()->first) {
        Topic& t = *deadlines_.begin()->second;
        if (t.events.empty()) {
            dropped_through_ = std::max(dropped_through_, t.newest);
            deadlines_.erase(deadlines_.begin());
            topics_.erase(topics_.find(*t.name)); // by iterator: t.name is the node's key
            --budget;
            continue;
        }
        while (budget > 0 && !t.events.empty() && now - t.events.front()->published_at > max_age_) {
            pop_locked(t);
            --budget;
        }
        reindex_locked(t);
    }
}

std::size_t MemoryHistory::size() const {
    const std::lock_guard lock(mutex_);
    return total_;
}

std::size_t MemoryHistory::topic_count() const {
    const std::lock_guard lock(mutex_);
    return topics_.size();
}

} // namespace ssecast::history
