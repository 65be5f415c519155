// SPDX-License-Identifier: MIT
// EventInbox: the ordered hand-off of events from the broker thread(s) to one shard.
// Why not just post each event: Asio runs handlers posted from inside the loop's own thread
// through a thread-private queue, so a self-post can overtake (or be overtaken by) a post
// from another thread; events would reach subscribers out of id order.
#pragma once

#include "hub/event.hpp"

#include <mutex>
#include <vector>

namespace ssecast::hub {

/// Multi-producer, single-consumer FIFO of events. push() may be called from any thread
/// (the broker calls it under its ordering lock); take() only from the owning shard.
class EventInbox {
  public:
    /// Appends `event`; returns true when the consumer must be woken (the inbox was idle),
    /// so a burst costs one wake-up, not one per event.
    bool push(EventPtr event) {
        const std::lock_guard lock(mutex_);
        events_.push_back(std::move(event));
        if (wake_pending_) {
            return false;
        }
        wake_pending_ = true;
        return true;
    }

    /// Moves out everything queued so far, in push order, and re-arms the wake-up.
    void take(std::vector<EventPtr>& out) {
        out.clear();
        const std::lock_guard lock(mutex_);
        out.swap(events_);
        wake_pending_ = false;
    }

  private:
    std::mutex mutex_; // guards events_ and wake_pending_
    std::vector<EventPtr> events_;
    bool wake_pending_ = false;
};

} // namespace ssecast::hub
