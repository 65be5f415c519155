// SPDX-License-Identifier: MIT
// One open SSE stream as the hub sees it: what it wants, and a bounded queue of frames
// waiting to be written. Lives on one shard; never touched from another thread.
#pragma once

#include "common/errc.hpp"
#include "hub/event.hpp"
#include "hub/topic.hpp"

#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <vector>

namespace ssecast::hub {

/// A subscriber's queue and filter. Single-threaded: every call happens on the owning
/// shard's thread. The HTTP stream owns it; the Hub only holds a pointer between add()
/// and remove().
class Subscriber {
  public:
    enum class Offer { queued, filtered, overflow };

    /// `wake` is called (on this thread) when the writer has something new to do: notify()
    /// after frames were queued, a finished handoff, or close(). It may write to the socket
    /// and close this subscriber, but must not add or remove hub subscribers.
    Subscriber(std::string user_id, std::vector<TopicPattern> patterns, std::size_t max_queue_bytes,
               std::function<void()> wake);

    /// True when `event` is for this subscription: a pattern matches one of its topics and
    /// it is not restricted to other users, and (redis.shards) no pattern matches one of
    /// its covered_below topics: then the copy on that lower shard is the one it reads.
    bool wants(const Event& event) const noexcept;
    /// True when a pattern matches one of event.covered_below (redis.shards): this stream
    /// reads the copy of the event on a lower shard, not this one.
    bool reads_lower_copy(const Event& event) const noexcept;

    /// Calls the wake callback: the Hub does this once per dispatch batch for subscribers
    /// whose queue became non-empty (offer() itself does not wake).
    void notify() { wake_(); }

    /// Queues `event` if wanted. Past max_queue_bytes the subscriber is closed with
    /// errc::slow_consumer and Offer::overflow is returned (STYLE habit 1: never block the
    /// publisher, cut the slow one). While a replay handoff is open, live events are held
    /// back, at most max_queue_bytes / 2 of them: past that the held events are dropped and
    /// held_drops() counts it (they are in history, so the replay reads them again; the
    /// stream is not cut). Events at or below the handoff floor of their shard are dropped
    /// as duplicates (ids of different shards are not ordered: one floor per shard).
    Offer offer(const EventPtr& event);

    /// SPEC §Resume: called before history is read; live events are held from now on.
    void begin_handoff();
    /// Queues one replay page (only the wanted events above the floor, in order; not
    /// subject to the queue limit: the caller bounds pages and asks for the next one only
    /// when the queue has drained) and raises the floor of `shard` to `next_after`, the
    /// newest id the page accounted for (history::Replay::next_after). Wakes the writer.
    void push_replay(std::span<const EventPtr> page, sse::EventId next_after,
                     std::uint16_t shard = 0);
    /// How often held live events were dropped for being over their budget. A replay may
    /// finish (finish_handoff) only after a page read that began after the last drop and
    /// reached the end of history: then no event is missing between page and held.
    std::uint64_t held_drops() const noexcept { return held_drops_; }
    /// Ends the handoff: queues the held live events above their shard's floor (no gap, no
    /// duplicate at the seam; with no replay page pushed there is no floor and all are
    /// queued), then
    /// live events are queued directly. Wakes the writer.
    void finish_handoff();

    /// Queues a frame that is not an event (history-lost notice) at the front. Not subject
    /// to filters. Only before the writer starts (it would shift frames being written).
    void push_control(EventPtr frame);

    /// Queues the shared heartbeat frame if nothing is pending (an idle stream), and wakes
    /// the writer. Called by the shard's sweep, so streams need no timer of their own.
    void push_heartbeat(const EventPtr& heartbeat);

    /// Writer side: frames waiting, oldest first. Pop with consumed() after writing.
    std::span<const EventPtr> pending() const noexcept {
        return {queue_.data() + head_, queue_.size() - head_};
    }
    void consumed(std::size_t count);
    std::size_t queued_bytes() const noexcept { return queued_bytes_; }

    /// Ends the stream: the writer stops after the current write. Idempotent; the first
    /// reason wins.
    void close(errc reason);
    bool closed() const noexcept { return closed_; }
    errc close_reason() const noexcept { return close_reason_; }

    /// Ends the stream after `last` (`ssecast.token-expired`, `ssecast.disconnected`): no
    /// event is queued or replayed from now on, held live events are dropped, `last` goes
    /// after what is already queued (outside the queue limit), and the writer calls
    /// close(reason) once the queue is empty (ending() tells it). A stuck writer is still
    /// cut by the shard's sweep. Does nothing on a closed or already ending stream.
    void finish(EventPtr last, errc reason);
    bool ending() const noexcept { return ending_; }
    errc end_reason() const noexcept { return end_reason_; }

    /// SPEC §Expiry on open streams: events published at or after `at` are never queued
    /// (one comparison per offer), and the shard's sweep finishes the stream once `at` has
    /// passed. nullopt = no expiry.
    void set_expiry(std::optional<std::chrono::system_clock::time_point> at) { expires_at_ = at; }
    const std::optional<std::chrono::system_clock::time_point>& expires_at() const noexcept {
        return expires_at_;
    }

    const std::string& user_id() const noexcept { return user_id_; }
    const std::vector<TopicPattern>& patterns() const noexcept { return patterns_; }

    /// Used by Hub to deliver an event once even when several patterns match it.
    std::uint64_t dispatch_stamp = 0;
    /// The registry's id of this stream (registry::ConnectionInfo::id), for admin orders.
    std::uint64_t connection_id = 0;
    /// Set by the writer when frames start waiting for socket space, cleared whenever the
    /// socket takes bytes (zero otherwise), so the shard's sweep can cut a peer that
    /// stopped reading.
    std::chrono::steady_clock::time_point write_started{};
    /// When the writer last wrote anything (zero until the stream is live): the shard's
    /// sweep sends a heartbeat when this is older than sse.heartbeat_seconds.
    std::chrono::steady_clock::time_point last_write{};

  private:
    bool enqueue(const EventPtr& event);
    /// The handoff floor of `shard` (nullopt: none yet).
    std::optional<sse::EventId>& floor_of(std::uint16_t shard);
    bool at_or_below_floor(const Event& event) const noexcept;

    std::string user_id_;
    std::vector<TopicPattern> patterns_;
    std::size_t max_queue_bytes_;
    std::function<void()> wake_;
    // A vector with a moving head instead of std::deque: an idle subscriber holds no heap
    // block at all (a libstdc++ deque allocates ~600 bytes up front), which matters at 10k+
    // idle streams per instance.
    std::vector<EventPtr> queue_;
    std::size_t head_ = 0;
    std::size_t queued_bytes_ = 0;
    bool in_handoff_ = false;
    std::vector<EventPtr> held_; ///< live events that arrived during the handoff
    std::size_t held_bytes_ = 0;
    std::uint64_t held_drops_ = 0;
    std::optional<sse::EventId> floor_; ///< shard 0 (the only one without redis.shards)
    /// Shards 1.. of a stream over several Redis shards; empty otherwise, so an ordinary
    /// stream holds no heap block for it.
    std::vector<std::optional<sse::EventId>> higher_floors_;
    bool closed_ = false;
    errc close_reason_ = errc::ok;
    bool ending_ = false;
    errc end_reason_ = errc::ok;
    std::optional<std::chrono::system_clock::time_point> expires_at_;
};

} // namespace ssecast::hub
