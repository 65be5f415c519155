// SPDX-License-Identifier: MIT
// ClientRegistry: who is connected (one record per stream), per user and per instance.
// MemoryRegistry here; the Redis one (global across instances) lives in src/redis.
#pragma once

#include "common/errc.hpp"

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

namespace ssecast::registry {

/// One open stream. `id` is unique within the process (the Redis record is
/// "<instance id>:<id>"); `topics` are the subscribed patterns as text ("orders/*").
struct ConnectionInfo {
    std::uint64_t id = 0;
    std::string user_id;
    std::vector<std::string> topics;
    std::int64_t since_unix_ms = 0; ///< when the stream was accepted (Unix ms)
};

struct InstanceInfo {
    std::string instance_id;
    std::size_t connections = 0;
    std::chrono::seconds last_seen{0}; ///< since its last heartbeat
};

struct UserCount {
    std::string user_id;
    std::size_t connections = 0;
};

/// A global view: every instance sharing the backend.
struct RegistrySnapshot {
    std::size_t connections = 0;
    std::size_t unique_users = 0;
    std::vector<InstanceInfo> instances;
    std::vector<UserCount> per_user; ///< sorted by connections, most first
};

/// One open stream as the monitor shows it (SPEC: the id an admin disconnect names).
struct ConnectionRecord {
    std::string id; ///< "<instance id>:<n>"
    std::string user_id;
    std::vector<std::string> topics;
    std::int64_t since_unix_ms = 0;
};

/// Thread-safe: connect/disconnect are called from every shard on each stream open/close
/// and must not block on I/O (a Redis backend batches them).
class ClientRegistry {
  public:
    using SnapshotDone = std::function<void(result<RegistrySnapshot>)>;
    virtual ~ClientRegistry() = default;

    /// Records stream `info` (its id must not be recorded already).
    virtual void connected(const ConnectionInfo& info) = 0;
    /// Records stream `info` unless its user already has `max_per_user` (0 = no limit);
    /// false = refused, nothing recorded. One atomic step (check and count), so
    /// simultaneous opens on different shards cannot both pass.
    virtual bool try_connect(const ConnectionInfo& info, std::size_t max_per_user) = 0;
    /// Forgets the stream recorded under `info.id` (only the id is read; an unknown id is
    /// ignored, so a double call is harmless).
    virtual void disconnected(const ConnectionInfo& info) = 0;
    /// Distinct users with a stream on this instance.
    virtual std::size_t local_unique_users() const = 0;
    /// Open streams of `user_id` (global in redis mode, as of the last sync).
    virtual std::size_t user_connections(const std::string& user_id) const = 0;
    /// The global view, `limit` users at most; `done` runs once on any thread.
    virtual void snapshot(std::size_t limit, SnapshotDone done) = 0;

    using ConnectionsDone = std::function<void(result<std::vector<ConnectionRecord>>)>;
    /// The open streams of `user_id` on every instance (redis mode: as of the last flush,
    /// at most 100 ms old), `limit` at most, oldest first; `done` runs once on any thread.
    /// Costs a pass over every record in redis mode: an admin lookup, not a hot path.
    virtual void connections_of(const std::string& user_id, std::size_t limit,
                                ConnectionsDone done) = 0;
};

/// One instance, in memory. One mutex; O(1) per connect/disconnect.
class MemoryRegistry final : public ClientRegistry {
  public:
    explicit MemoryRegistry(std::string instance_id);
    void connected(const ConnectionInfo& info) override;
    bool try_connect(const ConnectionInfo& info, std::size_t max_per_user) override;
    void disconnected(const ConnectionInfo& info) override;
    std::size_t user_connections(const std::string& user_id) const override;
    std::size_t local_unique_users() const override;
    void snapshot(std::size_t limit, SnapshotDone done) override;
    void connections_of(const std::string& user_id, std::size_t limit,
                        ConnectionsDone done) override;

  private:
    const std::string instance_id_;
    mutable std::mutex mutex_; // guards per_user_, conns_ and total_
    std::unordered_map<std::string, std::size_t> per_user_;
    std::unordered_map<std::uint64_t, ConnectionInfo> conns_; ///< open streams by id
    std::size_t total_ = 0;
};

/// Sorts `counts` by connections (most first, then user id) and keeps `limit`.
void sort_and_cut(std::vector<UserCount>& counts, std::size_t limit);
/// Sorts `records` oldest first (then by id) and keeps `limit`.
void sort_records(std::vector<ConnectionRecord>& records, std::size_t limit);

} // namespace ssecast::registry
