// SPDX-License-Identifier: MIT
// Redis client registry.
#include "redis/redis_registry.hpp"

#include "redis/scripts.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <boost/json/serialize.hpp>

#include <spdlog/spdlog.h>

#include <charconv>

namespace ssecast::redis {

namespace net = boost::asio;
using namespace std::chrono_literals;

namespace {
constexpr auto kTick = 100ms;         // flush period (SPEC: batches, never per connection)
constexpr auto kSnapshotMaxAge = 1s;  // snapshot() cache; also user_connections' freshness
constexpr auto kCleanupPerRun = "16"; // dead instances removed per cleanup run (bounded)

/// The conns hash value of `info`: compact {"user":…,"topics":[…],"since":…}.
std::string encode_record(const registry::ConnectionInfo& info) {
    boost::json::array topics;
    topics.reserve(info.topics.size());
    for (const auto& t : info.topics) {
        topics.emplace_back(t);
    }
    boost::json::object o;
    o["user"] = info.user_id;
    o["topics"] = std::move(topics);
    o["since"] = info.since_unix_ms;
    return boost::json::serialize(o);
}

std::size_t to_count(const std::string& s) {
    long long v = 0;
    std::from_chars(s.data(), s.data() + s.size(), v);
    return v > 0 ? static_cast<std::size_t>(v) : 0;
}
} // namespace

RedisRegistry::RedisRegistry(net::io_context& ioc, const config::RedisConfig& cfg, const Keys& keys,
                             std::shared_ptr<Connection> commands)
    : ioc_(ioc), cfg_(cfg), keys_(keys), cmd_(std::move(commands)),
      flush_script_(Script::create(lua::kRegistryFlush)),
      heartbeat_script_(Script::create(lua::kHeartbeat)),
      cleanup_script_(Script::create(lua::kCleanup)),
      snapshot_script_(Script::create(lua::kSnapshot)),
      deregister_script_(Script::create(lua::kDeregister)), timer_(ioc) {
    cmd_->on_up([this] {
        // Redis may have lost or expired our entries: write the whole state, not deltas.
        {
            const std::lock_guard lock(mutex_);
            full_needed_ = true;
        }
        next_heartbeat_ = {};
    });
}

RedisRegistry::~RedisRegistry() {
    stopped_ = true;
    timer_.cancel();
    // Pending callbacks capture `this`: finish them now, not after we are gone.
    cmd_->stop();
}

void RedisRegistry::start() {
    net::post(ioc_, [this] { tick(); });
}

void RedisRegistry::connected(const registry::ConnectionInfo& info) {
    auto record = encode_record(info);
    const std::lock_guard lock(mutex_);
    add_locked(info, std::move(record));
}

bool RedisRegistry::try_connect(const registry::ConnectionInfo& info, std::size_t max_per_user) {
    auto record = encode_record(info); // outside the lock: every shard opens streams
    const std::lock_guard lock(mutex_);
    if (conns_.contains(info.id)) {
        return true; // already recorded
    }
    if (max_per_user > 0) {
        const auto mine = local_.find(info.user_id);
        const auto others = others_.find(info.user_id);
        const std::size_t now = (mine == local_.end() ? 0 : mine->second) +
                                (others == others_.end() ? 0 : others->second);
        if (now >= max_per_user) {
            return false;
        }
    }
    add_locked(info, std::move(record));
    return true;
}

void RedisRegistry::add_locked(const registry::ConnectionInfo& info, std::string record) {
    if (!conns_.try_emplace(info.id, Conn{info.user_id, std::move(record)}).second) {
        return;
    }
    ++local_[info.user_id];
    ++deltas_[info.user_id];
    if (!full_needed_) { // a full rewrite writes every record anyway
        conn_adds_.insert(info.id);
    }
}

std::size_t RedisRegistry::local_unique_users() const {
    const std::lock_guard lock(mutex_);
    return local_.size();
}

void RedisRegistry::disconnected(const registry::ConnectionInfo& info) {
    const std::lock_guard lock(mutex_);
    const auto conn = conns_.find(info.id);
    if (conn == conns_.end()) {
        return;
    }
    const auto it = local_.find(conn->second.user_id);
    if (it != local_.end()) {
        --deltas_[it->first];
        if (--it->second == 0) {
            local_.erase(it);
        }
    }
    conns_.erase(conn);
    // Opened and closed within one flush interval: never written, nothing to remove.
    if (!full_needed_ && conn_adds_.erase(info.id) == 0) {
        conn_removes_.push_back(info.id);
    }
}

std::size_t RedisRegistry::user_connections(const std::string& user_id) const {
    const std::lock_guard lock(mutex_);
    const auto mine = local_.find(user_id);
    const auto others = others_.find(user_id);
    return (mine == local_.end() ? 0 : mine->second) +
           (others == others_.end() ? 0 : others->second);
}

void RedisRegistry::tick() {
    if (stopped_) {
        return;
    }
    if (!cmd_->up()) {
        // The reconnect rewrites everything: pending changes need not pile up meanwhile.
        const std::lock_guard lock(mutex_);
        full_needed_ = true;
        deltas_.clear();
        conn_adds_.clear();
        conn_removes_.clear();
    } else {
        flush();
        const auto now = std::chrono::steady_clock::now();
        if (now >= next_heartbeat_) {
            next_heartbeat_ = now + cfg_.heartbeat;
            heartbeat();
            cleanup();
        }
        if (now - refreshed_at_ >= kSnapshotMaxAge && !refreshing_) {
            refresh(nullptr);
        }
    }
    timer_.expires_after(kTick);
    timer_.async_wait([this](boost::system::error_code ec) {
        if (!ec) {
            tick();
        }
    });
}

void RedisRegistry::flush() {
    if (flushing_) {
        return;
    }
    // See registry_flush.lua for the argument layout.
    std::vector<std::string> args{"", std::to_string((cfg_.instance_ttl * 3).count() * 1000), "",
                                  ""};
    {
        const std::lock_guard lock(mutex_);
        std::size_t users = 0;
        std::size_t sets = 0;
        if (full_needed_) {
            args[0] = "full";
            args.reserve(args.size() + 2 * (local_.size() + conns_.size()));
            for (const auto& [user, n] : local_) {
                args.push_back(user);
                args.push_back(std::to_string(n));
            }
            users = local_.size();
            for (const auto& [id, c] : conns_) {
                args.push_back(record_field(id));
                args.push_back(c.record);
            }
            sets = conns_.size();
            full_needed_ = false;
        } else {
            args[0] = "delta";
            for (const auto& [user, d] : deltas_) {
                if (d != 0) {
                    args.push_back(user);
                    args.push_back(std::to_string(d));
                    ++users;
                }
            }
            for (const auto id : conn_adds_) {
                if (const auto c = conns_.find(id); c != conns_.end()) {
                    args.push_back(record_field(id));
                    args.push_back(c->second.record);
                    ++sets;
                }
            }
            for (const auto id : conn_removes_) {
                args.push_back(record_field(id));
            }
        }
        deltas_.clear();
        conn_adds_.clear();
        conn_removes_.clear();
        if (args[0] == "delta" && args.size() == 4) {
            return; // nothing changed (a full rewrite always runs: it also deletes stale data)
        }
        args[2] = std::to_string(users);
        args[3] = std::to_string(sets);
    }
    flushing_ = true;
    flush_script_->eval(*cmd_, {keys_.users, keys_.conns}, args, [this](result<Reply> r) {
        flushing_ = false;
        if (!r || r->is_error()) {
            if (r) {
                spdlog::error("redis registry flush failed: {}", r->str);
            }
            const std::lock_guard lock(mutex_);
            full_needed_ = true; // the changes are lost: rewrite everything next time
        }
    });
}

std::string RedisRegistry::record_field(std::uint64_t id) const {
    return keys_.instance_id + ':' + std::to_string(id);
}

void RedisRegistry::heartbeat() {
    heartbeat_script_->eval(*cmd_, {keys_.alive, keys_.instances, keys_.users, keys_.conns},
                            {keys_.instance_id, std::to_string(cfg_.instance_ttl.count() * 1000)},
                            [](result<Reply> r) {
                                if (r && r->is_error()) {
                                    spdlog::error("redis heartbeat failed: {}", r->str);
                                }
                            });
}

void RedisRegistry::cleanup() {
    const auto lock_ms = std::chrono::duration_cast<std::chrono::milliseconds>(cfg_.heartbeat);
    cmd_->command(
        {"SET", keys_.cleanup_lock, keys_.instance_id, "NX", "PX", std::to_string(lock_ms.count())},
        [this](result<Reply> r) {
            if (!r || r->type != Reply::Type::status || stopped_) {
                return; // another survivor holds the lock this round
            }
            cleanup_script_->eval(
                *cmd_,
                {keys_.instances, keys_.ingest, keys_.topics, keys_.topic_sizes,
                 keys_.history_total},
                {keys_.prefix, std::to_string(cfg_.instance_ttl.count() * 1000), kCleanupPerRun},
                [](result<Reply> r2) {
                    if (!r2 || !r2->is_array()) {
                        if (r2) {
                            spdlog::error("redis cleanup failed: {}", r2->str);
                        }
                        return;
                    }
                    for (const auto& id : r2->elements) {
                        spdlog::warn("redis: instance {} stopped heartbeating; removed its "
                                     "registry entries",
                                     id.str);
                    }
                });
        });
}

void RedisRegistry::refresh(std::function<void(bool)> then) {
    if (then) {
        refresh_waiters_.push_back(std::move(then));
    }
    if (refreshing_) {
        return;
    }
    refreshing_ = true;
    snapshot_script_->eval(*cmd_, {keys_.instances}, {keys_.prefix}, [this](result<Reply> r) {
        refreshing_ = false;
        const bool ok = r && r->is_array();
        if (ok) {
            std::vector<Instance> list;
            std::unordered_map<std::string, std::size_t> others;
            for (const auto& e : r->elements) {
                if (!e.is_array() || e.elements.size() != 3) {
                    continue;
                }
                Instance inst;
                inst.id = e.elements[0].str;
                inst.since_heartbeat = std::chrono::milliseconds(e.elements[1].integer);
                const auto& h = e.elements[2].elements;
                for (std::size_t i = 0; i + 1 < h.size(); i += 2) {
                    const auto n = to_count(h[i + 1].str);
                    inst.users[h[i].str] = n;
                    if (inst.id != keys_.instance_id) {
                        others[h[i].str] += n;
                    }
                }
                list.push_back(std::move(inst));
            }
            instances_ = std::move(list);
            refreshed_at_ = std::chrono::steady_clock::now();
            const std::lock_guard lock(mutex_);
            others_ = std::move(others);
        } else if (r) {
            spdlog::error("redis registry snapshot failed: {}", r->str);
        }
        auto waiters = std::move(refresh_waiters_);
        refresh_waiters_.clear();
        for (auto& w : waiters) {
            w(ok);
        }
    });
}

registry::RegistrySnapshot RedisRegistry::build(std::size_t limit) const {
    registry::RegistrySnapshot snap;
    std::unordered_map<std::string, std::size_t> per_user;
    bool have_self = false;
    const std::lock_guard lock(mutex_);
    for (const auto& inst : instances_) {
        // This instance's own counts are known exactly and now, not as of the last flush.
        const bool self = inst.id == keys_.instance_id;
        have_self = have_self || self;
        const auto& users = self ? local_ : inst.users;
        std::size_t total = 0;
        for (const auto& [user, n] : users) {
            per_user[user] += n;
            total += n;
        }
        snap.instances.push_back(
            {inst.id, total,
             std::chrono::duration_cast<std::chrono::seconds>(inst.since_heartbeat)});
        snap.connections += total;
    }
    if (!have_self) {
        std::size_t total = 0;
        for (const auto& [user, n] : local_) {
            per_user[user] += n;
            total += n;
        }
        snap.instances.push_back({keys_.instance_id, total, std::chrono::seconds(0)});
        snap.connections += total;
    }
    snap.unique_users = per_user.size();
    snap.per_user.reserve(per_user.size());
    for (auto& [user, n] : per_user) {
        snap.per_user.push_back({user, n});
    }
    registry::sort_and_cut(snap.per_user, limit);
    return snap;
}

void RedisRegistry::snapshot(std::size_t limit, SnapshotDone done) {
    net::post(ioc_, [this, limit, done = std::move(done)]() mutable {
        if (stopped_ || !cmd_->up()) {
            done(errc::backend_unavailable);
            return;
        }
        if (std::chrono::steady_clock::now() - refreshed_at_ < kSnapshotMaxAge) {
            done(build(limit));
            return;
        }
        refresh([this, limit, done = std::move(done)](bool ok) {
            if (ok) {
                done(build(limit));
            } else {
                done(errc::backend_unavailable);
            }
        });
    });
}

net::awaitable<void> RedisRegistry::deregister(std::chrono::milliseconds timeout) {
    stopped_ = true;
    timer_.cancel();
    struct Wait {
        explicit Wait(net::io_context& ioc) : timer(ioc) {}
        net::steady_timer timer;
        bool finished = false;
    };
    auto wait = std::make_shared<Wait>(ioc_);
    wait->timer.expires_after(timeout);
    deregister_script_->eval(
        *cmd_,
        {keys_.users, keys_.alive, keys_.instances, keys_.processing, keys_.ingest, keys_.conns},
        {keys_.instance_id}, [wait, id = keys_.instance_id](result<Reply> r) {
            if (r && !r->is_error()) {
                spdlog::info("redis: instance {} deregistered", id);
            } else {
                spdlog::warn("redis: could not deregister instance {} ({}); survivors will "
                             "clean up after its heartbeat expires",
                             id, r ? r->str : r.error().message());
            }
            wait->finished = true;
            wait->timer.cancel();
        });
    if (!wait->finished) {
        co_await wait->timer.async_wait(net::as_tuple(net::use_awaitable));
    }
}

} // namespace ssecast::redis
