// SPDX-License-Identifier: MIT
// Shard: one core's runtime (event loop, hub, inbox, counters) and the fan-out step that takes
// an event from the broker to this core's subscribers.
#pragma once

#include "hub/hub.hpp"
#include "hub/inbox.hpp"
#include "metrics/metrics.hpp"

#include <boost/asio/io_context.hpp>

#include <cstddef>

namespace ssecast::hub {

/// One event loop and its subscribers. A connection lives on one shard for its whole life,
/// so the hub and its subscribers are touched only from `ioc()`'s thread and need no lock;
/// only deliver() crosses threads. App owns the shards; they outlive every session.
class Shard {
  public:
    Shard(std::size_t index, metrics::ShardCounters& counters)
        : index_(index), counters_(counters) {}
    Shard(const Shard&) = delete;
    Shard& operator=(const Shard&) = delete;

    std::size_t index() const { return index_; }
    boost::asio::io_context& ioc() { return ioc_; }
    /// Shard thread only.
    Hub& hub() { return hub_; }
    metrics::ShardCounters& counters() { return counters_; }

    /// Any thread (the broker calls it under its ordering lock, once per shard and event):
    /// queues `event` and, when the inbox was idle, posts one drain() to this shard's loop.
    /// Events reach the hub in call order (hub/inbox.hpp says why not one post per event).
    void deliver(const EventPtr& event);

    /// Shard thread only (posted by deliver()): dispatches everything in the inbox to the
    /// hub in order, then lets each subscriber whose queue became non-empty write once
    /// (Hub::flush_ready), and adds the delivered/dropped counts to the shard's counters.
    void drain();

  private:
    std::size_t index_;
    boost::asio::io_context ioc_{1};
    Hub hub_;
    EventInbox inbox_;
    metrics::ShardCounters& counters_;
};

} // namespace ssecast::hub
