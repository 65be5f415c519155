// SPDX-License-Identifier: MIT
// The retained events of memory mode, per topic (SPEC §Resume: history.max_events and
// history.max_age_seconds per topic, history.max_total_events for the sum): answers "the
// events of these topics after id X" for resuming clients, and exactly whether some are gone.
#pragma once

#include "common/clock.hpp"
#include "history/event_queue.hpp"
#include "history/replay.hpp"
#include "hub/event.hpp"
#include "hub/topic.hpp"

#include <chrono>
#include <map>
#include <mutex>
#include <set>
#include <string>
#include <utility>
#include <vector>

namespace ssecast::history {

/// Per-topic bounded history. An event published to several topics is one shared EventPtr
/// held (and counted) by each of them.
///
/// Retention: each topic keeps its newest `max_events`, none older than `max_age`; the sum of
/// retained (topic, event) entries stays ≤ `max_total_events`, past which the oldest event of
/// the largest topic (of equal ones, the one holding the oldest event) goes first.
///
/// History-lost, exact per topic: a topic's record keeps `evicted_through`, the newest id it
/// lost by count, age or the total bound; a resume after A is lost for that topic iff
/// A < evicted_through. A topic whose events are all gone keeps its record until 2 × max_age
/// after its last event, then the record is dropped. For a topic with no record (or any
/// topic a prefix may cover), a resume after A is lost iff
///     A.ms < now_ms − 2 × max_age_ms + kIdLead   (the rule redis mode uses too)
/// — else no event of that topic can exist after A, since a record outlives its last event
/// by 2 × max_age and ids run at most kIdLead ahead of the clock — and memory mode also
/// requires A < the newest id of any dropped record (tighter, never looser). Global rules on
/// top: an id below `lost_before` is lost, and so is an id newer than anything appended.
///
/// Thread-safe: one mutex, held for O(log topics) per append and eviction and for
/// O(selected topics × log + q.max_scan × log) per page. Events must be appended in strictly
/// increasing id order (MemoryBroker appends under its lock).
class MemoryHistory {
  public:
    /// How far ahead of the clock an id may run (= redis::kStoredIdLead): the no-record rule's
    /// margin.
    static constexpr std::chrono::minutes kIdLead{5};

    /// `lost_before`: ids below it are unknown to this history (the process start: a client
    /// carrying an id from before a restart is told its history is lost).
    MemoryHistory(std::size_t max_events, std::size_t max_total_events,
                  std::chrono::seconds max_age, const Clock& clock, sse::EventId lost_before);

    /// Retains `event` on each of its topics, then applies the count, total and age bounds
    /// (a bounded amount of other topics' age trimming included). O(topics of the event ×
    /// log topics) amortised.
    void append(hub::EventPtr event);
    /// One page of the retained events of q.topics with id > `q.after`, merged in id order
    /// (an event on several selected topics once), within q's bounds. lost: see the class
    /// comment; when `after` is newer than every event appended the page is empty and
    /// next_after is the newest id.
    Replay after(const ReplayQuery& q) const;
    /// Drops expired events and expired empty records, oldest deadline first, at most a
    /// fixed budget per call (the rest on the next call). Call it about once a second so an
    /// idle topic's memory is returned.
    void trim();
    /// Retained (topic, event) entries, summed over topics.
    std::size_t size() const;
    /// Topic records held (including emptied ones not yet expired).
    std::size_t topic_count() const;

  private:
    struct Topic;
    /// Largest last; among equal sizes the one holding the oldest event last, then by name.
    struct BySize {
        bool operator()(const Topic* a, const Topic* b) const noexcept;
    };
    using Deadline = std::pair<std::chrono::system_clock::time_point, Topic*>;
    /// Soonest first; ties by name (pointers of unrelated objects have no portable order).
    struct ByDeadline {
        bool operator()(const Deadline& a, const Deadline& b) const noexcept;
    };

    struct Topic {
        const std::string* name = nullptr; ///< the map key
        EventQueue events;
        sse::EventId evicted_through;                  ///< newest id removed from this topic
        sse::EventId newest;                           ///< newest id appended to this topic
        std::chrono::system_clock::time_point last_at; ///< published_at of `newest`
        /// Where this topic sits in by_size_ (size 0 = not there) and deadlines_.
        std::size_t indexed_size = 0;
        sse::EventId indexed_front;
        std::chrono::system_clock::time_point deadline;
        bool in_deadlines = false;
    };
    using TopicMap = std::map<std::string, Topic, std::less<>>;

    Topic& record_locked(const std::string& name, std::chrono::system_clock::time_point now);
    hub::EventPtr pop_locked(Topic& t);
    void reindex_locked(Topic& t);
    void trim_locked(std::chrono::system_clock::time_point now, std::size_t budget);
    /// Events of a topic without a record can be gone only if their id is below this.
    sse::EventId no_record_bound_locked(std::chrono::system_clock::time_point now) const;

    const std::size_t max_events_;
    const std::size_t max_total_events_;
    const std::chrono::seconds max_age_;
    const Clock& clock_;
    const sse::EventId floor_; ///< newest id unknown to this history (before lost_before)

    mutable std::mutex mutex_; // guards everything below
    TopicMap topics_;
    std::set<Topic*, BySize> by_size_; ///< non-empty topics
    std::set<Deadline, ByDeadline>
        deadlines_;                ///< every topic: front expiry, or record expiry when empty
    std::size_t total_ = 0;        ///< sum of topic sizes
    sse::EventId newest_;          ///< newest id ever appended (floor_ at start)
    sse::EventId dropped_through_; ///< newest id of any dropped record (floor_ at start)
};

} // namespace ssecast::history
