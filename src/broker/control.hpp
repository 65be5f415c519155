// SPDX-License-Identifier: MIT
// Control: admin orders that must reach every instance (SPEC §POST /api/admin/disconnect).
// MemoryControl (this folder) for one process; RedisControl (src/redis) for many.
#pragma once

#include "common/errc.hpp"

#include <chrono>
#include <cstddef>
#include <functional>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>

namespace ssecast::broker {

/// End the streams of one user, or one stream, everywhere.
struct DisconnectOrder {
    std::string user;              ///< "" = by connection
    std::string connection;        ///< "<instance id>:<n>" (the registry's record id); "" = by user
    std::chrono::seconds block{0}; ///< with `user`: refuse its new subscriptions this long
};

/// Users whose subscriptions are refused until some instant. Thread-safe; O(1) lookups.
class BlockList {
  public:
    /// Blocks `user` until `until` (a later block wins; an earlier one changes nothing).
    void block(const std::string& user, std::chrono::system_clock::time_point until);
    bool blocked(std::string_view user, std::chrono::system_clock::time_point now) const;

  private:
    mutable std::mutex mutex_; // guards until_
    std::unordered_map<std::string, std::chrono::system_clock::time_point> until_;
};

/// Carries out admin orders on every instance sharing a backend.
class Control {
  public:
    /// Ends this instance's streams matching `order` and calls `done` once, on any thread,
    /// with how many it ended (App fans this out to the shards).
    using LocalDisconnect =
        std::function<void(const DisconnectOrder& order, std::function<void(std::size_t)> done)>;
    using DisconnectDone = std::function<void(result<std::size_t>)>;

    virtual ~Control() = default;

    /// Called once, before any order.
    virtual void start(LocalDisconnect local) = 0;

    /// Applies `order` on every instance (the block first, so a client reconnecting right
    /// after its stream ended is refused) and answers the number of streams ended, summed
    /// over the instances that answered in time. `done` runs once, on any thread;
    /// errc::backend_unavailable when the order could not be sent at all.
    virtual void disconnect(DisconnectOrder order, DisconnectDone done) = 0;

    /// True while `user` is blocked. Thread-safe, no I/O (called on every subscribe).
    virtual bool blocked(std::string_view user) const = 0;
};

/// One process: orders run locally, blocks live in memory.
class MemoryControl final : public Control {
  public:
    void start(LocalDisconnect local) override { local_ = std::move(local); }
    void disconnect(DisconnectOrder order, DisconnectDone done) override;
    bool blocked(std::string_view user) const override;

  private:
    LocalDisconnect local_;
    BlockList blocks_;
};

} // namespace ssecast::broker
