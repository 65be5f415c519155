// SPDX-License-Identifier: MIT
// The retained events of memory mode: a bounded, ordered window (history.max_events,
// history.max_age_seconds) that answers "everything after id X" for resuming clients.
#pragma once

#include "common/clock.hpp"
#include "hub/event.hpp"
#include "hub/topic.hpp"

#include <chrono>
#include <deque>
#include <mutex>
#include <vector>

namespace ssecast::history {

/// One page of a resume (#12: a backlog of any length is paged out as the socket takes
/// it, and no single read costs more than these bounds).
struct ReplayQuery {
    sse::EventId after;
    /// Only events on a topic one of these matches are returned (empty = all). A pre-filter
    /// (topics only): the subscriber still decides with Subscriber::wants.
    std::vector<hub::TopicPattern> topics;
    std::size_t max_scan = 512;         ///< retained events looked at, at most
    std::size_t max_bytes = 256 * 1024; ///< returned bytes, at most (plus one event)
};

/// What a resuming client gets from one page: the retained events after its id, and
/// whether some events it never saw are gone for good (SPEC: then the first event is
/// ssecast.history-lost).
struct Replay {
    std::vector<hub::EventPtr> events; ///< oldest first
    bool lost = false;
    /// History holds events after next_after that this page did not look at: ask again.
    bool more = false;
    /// Every retained event ≤ this id was considered (returned or filtered out): the next
    /// page's `after` and the replay→live floor. Below `after` only when `after` is newer
    /// than anything assigned (then lost is set and this is the newest assigned id, so no
    /// new event is skipped: SPEC §Publish ids).
    sse::EventId next_after;
};

/// True when `topics` is empty or one of them matches one of `event`'s topics.
bool on_topics(const std::vector<hub::TopicPattern>& topics, const hub::Event& event) noexcept;

/// Thread-safe (one mutex, held for O(result) work). Events must be appended in strictly
/// increasing id order.
class MemoryHistory {
  public:
    /// `lost_before`: ids below it are unknown to this history (the process start: a client
    /// carrying an id from before a restart is told its history is lost).
    MemoryHistory(std::size_t max_events, std::chrono::seconds max_age, const Clock& clock,
                  sse::EventId lost_before);

    void append(hub::EventPtr event);
    /// One page of the retained events with id > `q.after`, within q's bounds. lost = an
    /// event newer than `after` was evicted, `after` predates this history, or `after` is
    /// newer than every event appended (then the page is empty and next_after is the newest
    /// id). Holds the lock for O(q.max_scan).
    Replay after(const ReplayQuery& q) const;
    /// Drops expired events; called on append and periodically so idle memory is returned.
    void trim();
    std::size_t size() const;

  private:
    void trim_locked(std::chrono::system_clock::time_point now);

    const std::size_t max_events_;
    const std::chrono::seconds max_age_;
    const Clock& clock_;
    mutable std::mutex mutex_; // guards events_, evicted_through_ and newest_
    std::deque<hub::EventPtr> events_;
    sse::EventId evicted_through_; ///< newest id no longer retained
    sse::EventId newest_;          ///< newest id ever appended (or evicted_through_ at start)
};

} // namespace ssecast::history
