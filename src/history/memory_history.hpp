// SPDX-License-Identifier: MIT
// The retained events of memory mode: a bounded, ordered window (history.max_events,
// history.max_age_seconds) that answers "everything after id X" for resuming clients.
#pragma once

#include "common/clock.hpp"
#include "hub/event.hpp"

#include <chrono>
#include <deque>
#include <mutex>
#include <vector>

namespace ssecast::history {

/// What a resuming client gets: the retained events after its id, and whether some events
/// it never saw are gone for good (SPEC: then the first event is ssecast.history-lost).
struct Replay {
    std::vector<hub::EventPtr> events; ///< oldest first
    bool lost = false;
};

/// Thread-safe (one mutex, held for O(result) work). Events must be appended in strictly
/// increasing id order.
class MemoryHistory {
  public:
    /// `lost_before`: ids below it are unknown to this history (the process start: a client
    /// carrying an id from before a restart is told its history is lost).
    MemoryHistory(std::size_t max_events, std::chrono::seconds max_age, const Clock& clock,
                  sse::EventId lost_before);

    void append(hub::EventPtr event);
    /// The retained events with id > `after`. lost = an event newer than `after` was
    /// evicted (or `after` predates this history).
    Replay after(sse::EventId after) const;
    /// Drops expired events; called on append and periodically so idle memory is returned.
    void trim();
    std::size_t size() const;

  private:
    void trim_locked(std::chrono::system_clock::time_point now);

    const std::size_t max_events_;
    const std::chrono::seconds max_age_;
    const Clock& clock_;
    mutable std::mutex mutex_; // guards events_ and evicted_through_
    std::deque<hub::EventPtr> events_;
    sse::EventId evicted_through_; ///< newest id no longer retained
};

} // namespace ssecast::history
