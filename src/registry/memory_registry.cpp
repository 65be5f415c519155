// SPDX-License-Identifier: MIT
// In-memory client registry.
#include "registry/client_registry.hpp"

#include <algorithm>

namespace ssecast::registry {

void sort_and_cut(std::vector<UserCount>& counts, std::size_t limit) {
    std::sort(counts.begin(), counts.end(), [](const UserCount& a, const UserCount& b) {
        return a.connections != b.connections ? a.connections > b.connections
                                              : a.user_id < b.user_id;
    });
    if (counts.size() > limit) {
        counts.resize(limit);
    }
}

MemoryRegistry::MemoryRegistry(std::string instance_id) : instance_id_(std::move(instance_id)) {}

void MemoryRegistry::connected(const ConnectionInfo& info) {
    const std::lock_guard lock(mutex_);
    if (!conns_.emplace(info.id, info).second) {
        return; // already recorded
    }
    ++per_user_[info.user_id];
    ++total_;
}

bool MemoryRegistry::try_connect(const ConnectionInfo& info, std::size_t max_per_user) {
    const std::lock_guard lock(mutex_);
    if (conns_.contains(info.id)) {
        return true; // already recorded
    }
    auto& count = per_user_[info.user_id];
    if (max_per_user > 0 && count >= max_per_user) {
        if (count == 0) {
            per_user_.erase(info.user_id);
        }
        return false;
    }
    conns_.emplace(info.id, info);
    ++count;
    ++total_;
    return true;
}

void MemoryRegistry::disconnected(const ConnectionInfo& info) {
    const std::lock_guard lock(mutex_);
    const auto conn = conns_.find(info.id);
    if (conn == conns_.end()) {
        return;
    }
    const auto it = per_user_.find(conn->second.user_id);
    conns_.erase(conn);
    if (it == per_user_.end()) {
        return;
    }
    if (--it->second == 0) {
        per_user_.erase(it);
    }
    --total_;
}

std::size_t MemoryRegistry::user_connections(const std::string& user_id) const {
    const std::lock_guard lock(mutex_);
    const auto it = per_user_.find(user_id);
    return it == per_user_.end() ? 0 : it->second;
}

std::size_t MemoryRegistry::local_unique_users() const {
    const std::lock_guard lock(mutex_);
    return per_user_.size();
}

void MemoryRegistry::snapshot(std::size_t limit, SnapshotDone done) {
    RegistrySnapshot snap;
    {
        const std::lock_guard lock(mutex_);
        snap.connections = total_;
        snap.unique_users = per_user_.size();
        snap.per_user.reserve(per_user_.size());
        for (const auto& [user, n] : per_user_) {
            snap.per_user.push_back({user, n});
        }
    }
    sort_and_cut(snap.per_user, limit);
    snap.instances.push_back({instance_id_, snap.connections, std::chrono::seconds(0)});
    done(std::move(snap));
}

void MemoryRegistry::connections_of(const std::string& user_id, std::size_t limit,
                                    ConnectionsDone done) {
    std::vector<ConnectionRecord> out;
    {
        const std::lock_guard lock(mutex_);
        for (const auto& [id, info] : conns_) {
            if (info.user_id == user_id) {
                out.push_back({instance_id_ + ":" + std::to_string(id), info.user_id, info.topics,
                               info.since_unix_ms});
            }
        }
    }
    sort_records(out, limit);
    done(std::move(out));
}

void sort_records(std::vector<ConnectionRecord>& records, std::size_t limit) {
    std::sort(records.begin(), records.end(), [](const auto& a, const auto& b) {
        return a.since_unix_ms != b.since_unix_ms ? a.since_unix_ms < b.since_unix_ms : a.id < b.id;
    });
    if (records.size() > limit) {
        records.resize(limit);
    }
}

} // namespace ssecast::registry
