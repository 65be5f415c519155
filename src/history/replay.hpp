// SPDX-License-Identifier: MIT
// How a resuming stream asks for history and what it gets back: the one vocabulary of
// Broker::replay, shared by both backends (memory: history::MemoryHistory; redis:
// redis/lua/replay.lua). Types only, so the broker seam does not depend on either.
#pragma once

#include "hub/event.hpp"
#include "hub/topic.hpp"

#include <cstddef>
#include <cstdint>
#include <vector>

namespace ssecast::history {

/// One page of a resume (#12: a backlog of any length is paged out as the socket takes
/// it, and no single read costs more than these bounds).
struct ReplayQuery {
    sse::EventId after;
    /// The subscription's topics: only their history is read (empty = all topics). The
    /// subscriber still decides per event with Subscriber::wants (users).
    std::vector<hub::TopicPattern> topics;
    std::size_t max_scan = 512;         ///< retained events looked at, at most
    std::size_t max_bytes = 256 * 1024; ///< returned bytes, at most (plus one event)
    /// The client was already told ssecast.history-lost for gone events up to this id (an
    /// earlier page's Replay::lost_through): a later page reports lost only for newer ones.
    /// Per-topic eviction makes this necessary: a page may end below the point where another
    /// selected topic's history starts, and the next page would see that same gap again.
    sse::EventId lost_reported_through{};
    /// Whose history (redis.shards: broker::ShardedBroker reads `topics` on this shard only;
    /// every other backend has only shard 0). `after` is a position on this shard.
    std::uint16_t shard = 0;
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
    /// When lost: every gone event that made this page lost has an id ≤ this one (feed it
    /// back as ReplayQuery::lost_reported_through). Unset ({}) otherwise.
    sse::EventId lost_through{};
};

} // namespace ssecast::history
