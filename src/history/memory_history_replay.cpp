// SPDX-License-Identifier: MIT
// MemoryHistory::after: picks the subscription's topics, decides history-lost from their
// records, and merges their retained events by id, one bounded page at a time.
#include "history/memory_history.hpp"

#include <algorithm>

namespace ssecast::history {

namespace {
/// A position in one selected topic's events, for the k-way merge.
struct Cursor {
    EventQueue::const_iterator it;
    EventQueue::const_iterator end;
};
/// std::*_heap keep the greatest on top: invert for the oldest id on top.
bool newer(const Cursor& a, const Cursor& b) noexcept {
    return (*a.it)->id > (*b.it)->id;
}

/// Takes the oldest event off the heap and moves its cursor on.
hub::EventPtr pop_oldest(std::vector<Cursor>& heap) {
    std::pop_heap(heap.begin(), heap.end(), newer);
    Cursor& c = heap.back();
    hub::EventPtr out = *c.it;
    if (++c.it == c.end) {
        heap.pop_back();
    } else {
        std::push_heap(heap.begin(), heap.end(), newer);
    }
    return out;
}
} // namespace

Replay MemoryHistory::after(const ReplayQuery& q) const {
    Replay replay;
    const std::lock_guard lock(mutex_);
    if (q.after > newest_) {
        // SPEC §Publish ids: an id newer than anything assigned must not become a floor that
        // drops the next live events.
        replay.lost = true;
        replay.next_after = newest_;
        replay.lost_through = newest_;
        return replay;
    }
    replay.next_after = q.after;
    // Gaps already reported to this client (an earlier page) are not reported again.
    const sse::EventId seen = std::max(q.after, q.lost_reported_through);
    const auto note_gone = [&](sse::EventId gone_through) {
        if (seen < gone_through) {
            replay.lost = true;
            replay.lost_through = std::max(replay.lost_through, gone_through);
        }
    };
    note_gone(floor_);

    std::vector<const Topic*> selected;
    const auto now = clock_.system_now();
    if (q.topics.empty()) {
        note_gone(no_record_bound_locked(now)); // a dropped record of any topic counts
        for (const auto& [name, t] : topics_) {
            selected.push_back(&t);
        }
    }
    for (const auto& pattern : q.topics) {
        if (!pattern.is_prefix()) {
            const auto it = topics_.find(pattern.key());
            if (it == topics_.end()) {
                note_gone(no_record_bound_locked(now));
            } else {
                selected.push_back(&it->second);
            }
            continue;
        }
        // Topics under a prefix may include dropped records; then the range of the map.
        note_gone(no_record_bound_locked(now));
        for (auto it = topics_.lower_bound(pattern.key());
             it != topics_.end() && it->first.starts_with(pattern.key()); ++it) {
            selected.push_back(&it->second);
        }
    }
    if (q.topics.size() > 1) {
        // Overlapping patterns ("a/*" with "a/b") must not read a topic twice.
        std::sort(selected.begin(), selected.end(), std::less<>());
        selected.erase(std::unique(selected.begin(), selected.end()), selected.end());
    }

    std::vector<Cursor> heap;
    for (const Topic* t : selected) {
        note_gone(t->evicted_through);
        if (t->events.empty() || t->newest <= q.after) {
            continue; // a recent id on a quiet topic: nothing new, no search
        }
        // All new (an old id) or a binary search; either way the cursor is not at the end.
        const auto first =
            t->events.front()->id > q.after
                ? t->events.begin()
                : std::upper_bound(
                      t->events.begin(), t->events.end(), q.after,
                      [](const sse::EventId& id, const hub::EventPtr& e) { return id < e->id; });
        heap.push_back({first, t->events.end()});
    }
    std::make_heap(heap.begin(), heap.end(), newer);

    std::size_t bytes = 0;
    while (!heap.empty() && replay.events.size() < q.max_scan && bytes < q.max_bytes) {
        hub::EventPtr e = pop_oldest(heap);
        if (e->id <= replay.next_after) {
            continue; // the same event again, from another of its topics
        }
        bytes += e->frame.size();
        replay.next_after = e->id;
        replay.events.push_back(std::move(e));
    }
    // Copies of the last returned event on other topics are not "more".
    while (!heap.empty() && (*heap.front().it)->id <= replay.next_after) {
        pop_oldest(heap);
    }
    replay.more = !heap.empty();
    return replay;
}

} // namespace ssecast::history
