// SPDX-License-Identifier: MIT
// Broker: the one seam between the hub and where events are ordered, stored and shared
// across instances. MemoryBroker (this folder) for one process; RedisBroker (src/redis) for
// many. App picks one at start-up (SPEC: handler = redisHandler || memoryHandler).
#pragma once

#include "common/errc.hpp"
#include "history/replay.hpp"
#include "hub/event.hpp"
#include "hub/topic.hpp"

#include <boost/system/error_code.hpp>

#include <cstdint>
#include <functional>
#include <string_view>
#include <vector>

namespace ssecast::broker {

/// Ordering guarantees every implementation keeps:
///  - ids are strictly increasing in publish order, across all instances sharing a backend;
///  - an event is stored in history before (or atomically with) its delivery, so a client
///    that registers, then reads history, then goes live misses nothing;
///  - `deliver` sees events in id order, each exactly once per instance, at least those on
///    the topics some stream of this instance watches (watch()).
class Broker {
  public:
    using PublishDone = std::function<void(result<std::vector<sse::EventId>>)>;
    using ReplayDone = std::function<void(result<history::Replay>)>;
    using Deliver = std::function<void(const hub::EventPtr&)>;
    using WatchDone = std::function<void(boost::system::error_code)>;

    virtual ~Broker() = default;

    /// Called once before any publish: `deliver` receives every event published anywhere,
    /// on a broker-owned thread; it must be cheap and thread-safe (App posts to shards).
    virtual void start(Deliver deliver) = 0;

    /// Assigns ids, stores and fans out `drafts` as one ordered batch. `done` runs exactly
    /// once, on any thread, with the ids, or an error (errc::backend_unavailable, timeout)
    /// meaning none of them was stored or sent: never a success for an event not stored.
    virtual void publish(std::vector<hub::EventDraft> drafts, PublishDone done) = 0;

    /// One page of the retained events after `q.after` (history::ReplayQuery bounds what one
    /// call reads and returns; history::Replay says whether more remain and where the next
    /// page starts). `done` runs once, on any thread, with the page or an error
    /// (errc::backend_unavailable, timeout).
    virtual void replay(history::ReplayQuery q, ReplayDone done) = 0;

    /// One stream's interest in `patterns`. Once `done` succeeds, every event published on
    /// them afterwards reaches `deliver` (redis: this instance's Redis subscription is
    /// confirmed), so a stream that registers, watches, then reads history misses nothing.
    /// `done` runs once, on any thread; on an error (errc::backend_unavailable, timeout)
    /// nothing is held and unwatch must not be called.
    virtual void watch(std::vector<hub::TopicPattern> patterns, WatchDone done) = 0;
    /// Ends one successful watch() of the same patterns.
    virtual void unwatch(std::vector<hub::TopicPattern> patterns) = 0;

    /// The shards a stream on `patterns` reads, ascending (ReplayQuery::shard, hub::Event::
    /// shard): {0} for every backend but ShardedBroker. A stream over several gets an id
    /// with a position on each (sse/shard_positions.hpp).
    virtual std::vector<std::uint16_t> shards_of(const std::vector<hub::TopicPattern>&) const {
        return {0};
    }

    /// Stops delivering; pending callbacks complete with an error or not at all after this.
    virtual void stop() = 0;

    /// "memory" or "redis" (the monitor's `handler`).
    virtual std::string_view name() const noexcept = 0;
};

} // namespace ssecast::broker
