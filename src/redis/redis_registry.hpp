// SPDX-License-Identifier: MIT
// ClientRegistry over Redis: counts kept locally, flushed in batches; heartbeats; cleanup
// of dead instances; a cached global snapshot (docs/redis.md §Registry).
#pragma once

#include "config/config.hpp"
#include "redis/connection.hpp"
#include "redis/keys.hpp"
#include "redis/script.hpp"
#include "registry/client_registry.hpp"

#include <boost/asio/awaitable.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>

#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

namespace ssecast::redis {

/// connected()/disconnected() touch only local maps under a mutex (any thread, O(1), no
/// I/O). Every 100 ms the loop flushes the accumulated changes in one EVALSHA (HINCRBY per
/// changed user, HSET/HDEL per opened/closed connection record; a stream opened and closed
/// within one interval is never written); after each (re)connect, or any failed flush, it
/// writes the full local state instead, so Redis converges to the truth. While the link is
/// down, pending changes are dropped (the reconnect rewrites everything), so nothing piles
/// up. Every redis.heartbeat it refreshes the heartbeat key (PX redis.instance_ttl), its
/// score in `<prefix>instances` and the TTL of both hashes, and tries the cleanup lock to
/// remove dead instances. Every second it refreshes the global view
/// used by snapshot() and user_connections().
/// Threading: Redis work and snapshot callbacks run on the io_context's thread.
class RedisRegistry final : public registry::ClientRegistry {
  public:
    RedisRegistry(boost::asio::io_context& ioc, const config::RedisConfig& cfg, const Keys& keys,
                  std::shared_ptr<Connection> commands);
    ~RedisRegistry() override;

    void connected(const registry::ConnectionInfo& info) override;
    /// Atomic on this instance; other instances' streams are counted as of the last global
    /// refresh (≤ 1 s old), so the global limit can be overshot only by opens racing on
    /// different instances within that second.
    bool try_connect(const registry::ConnectionInfo& info, std::size_t max_per_user) override;
    void disconnected(const registry::ConnectionInfo& info) override;
    std::size_t local_unique_users() const override;
    /// Others' count as of the last global refresh (≤ 1 s old) plus this instance's now.
    std::size_t user_connections(const std::string& user_id) const override;
    /// The cached global view (refreshed when older than 1 s); errc::backend_unavailable
    /// while Redis is unreachable (the monitor then shows the local view).
    void snapshot(std::size_t limit, SnapshotDone done) override;
    /// One connections.lua call (not cached); errc::backend_unavailable while Redis is down.
    void connections_of(const std::string& user_id, std::size_t limit,
                        ConnectionsDone done) override;

    /// Starts the periodic work (posted).
    void start();
    /// Removes this instance from Redis (its counts, records, heartbeat, instance entry),
    /// waiting at most `timeout`; afterwards nothing is written any more. Runs on the io_context.
    boost::asio::awaitable<void> deregister(std::chrono::milliseconds timeout);

  private:
    struct Instance {
        std::string id;
        std::chrono::milliseconds since_heartbeat{0};
        std::unordered_map<std::string, std::size_t> users;
    };
    struct Conn {
        std::string user_id;
        std::string record; ///< the conns hash value: {"user","topics","since"} JSON
    };
    /// Records `info` with `record`; mutex_ held.
    void add_locked(const registry::ConnectionInfo& info, std::string record);
    /// The conns hash field of stream `id`: "<instance id>:<id>".
    std::string record_field(std::uint64_t id) const;
    void tick();
    void flush();
    void heartbeat();
    void cleanup();
    void refresh(std::function<void(bool)> then);
    registry::RegistrySnapshot build(std::size_t limit) const;

    boost::asio::io_context& ioc_;
    const config::RedisConfig& cfg_;
    const Keys keys_;
    std::shared_ptr<Connection> cmd_;
    std::shared_ptr<Script> connections_script_;
    std::shared_ptr<Script> flush_script_, heartbeat_script_, cleanup_script_, snapshot_script_,
        deregister_script_;
    boost::asio::steady_timer timer_;

    // guards local_, deltas_, conns_, conn_adds_, conn_removes_, others_, full_needed_
    mutable std::mutex mutex_;
    std::unordered_map<std::string, std::size_t> local_;  ///< this instance's open streams
    std::unordered_map<std::string, long long> deltas_;   ///< not yet flushed
    std::unordered_map<std::uint64_t, Conn> conns_;       ///< this instance's open streams
    std::unordered_set<std::uint64_t> conn_adds_;         ///< in conns_, not yet flushed
    std::vector<std::uint64_t> conn_removes_;             ///< flushed once, closed since
    std::unordered_map<std::string, std::size_t> others_; ///< other live instances, summed
    bool full_needed_ = true;

    // Loop-thread state.
    bool flushing_ = false;
    bool stopped_ = false;
    std::chrono::steady_clock::time_point next_heartbeat_{}, refreshed_at_{};
    bool refreshing_ = false;
    std::vector<std::function<void(bool)>> refresh_waiters_;
    std::vector<Instance> instances_; ///< live instances as of refreshed_at_
};

} // namespace ssecast::redis
