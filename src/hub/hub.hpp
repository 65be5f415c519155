// SPDX-License-Identifier: MIT
// Local fan-out on one shard: the subscribers of this event loop and their topic index.
#pragma once

#include "hub/event.hpp"
#include "hub/subscriber.hpp"
#include "hub/topic_index.hpp"

#include <cstddef>
#include <cstdint>
#include <unordered_set>
#include <vector>

namespace ssecast::hub {

/// Outcome of one dispatch, for metrics.
struct DispatchCounts {
    std::size_t delivered = 0; ///< queued on a subscriber
    std::size_t dropped = 0;   ///< subscribers cut off as slow consumers by this event
};

/// The subscribers of one shard. Single-threaded: all calls on the shard's thread, so no
/// locks; other shards reach it by posting to that thread.
class Hub {
  public:
    /// Registers `sub` under all its patterns. The caller keeps ownership and must call
    /// remove() before destroying it.
    void add(Subscriber* sub);
    void remove(Subscriber* sub);

    /// Offers `event` to every subscriber that wants it, exactly once each. Subscribers
    /// whose queue was empty are remembered; call flush_ready() after a batch of dispatches
    /// so each is notified once per batch, not once per event.
    DispatchCounts dispatch(const EventPtr& event);

    /// Notifies (Subscriber::notify) every subscriber that got its first pending frame
    /// since the last call. The notification may write to the socket synchronously.
    void flush_ready();

    /// Closes every subscriber with `reason` (drain on SIGTERM).
    void close_all(errc reason);

    std::size_t size() const noexcept { return subscribers_.size(); }
    template <class Fn> void for_each(Fn&& fn) {
        for (Subscriber* s : subscribers_) {
            fn(*s);
        }
    }

  private:
    TopicIndex index_;
    std::unordered_set<Subscriber*> subscribers_;
    std::vector<Subscriber*> ready_; ///< queue went non-empty since the last flush_ready()
    std::uint64_t dispatch_seq_ = 0;
};

} // namespace ssecast::hub
