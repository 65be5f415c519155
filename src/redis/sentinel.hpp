// SPDX-License-Identifier: MIT
// Redis Sentinel as ssecast uses it (redis+sentinel://, SPEC §Redis in production): ask the
// sentinels where the master is, and hear from them when it moves.
#pragma once

#include "config/endpoints.hpp"
#include "redis/connection.hpp"

#include <boost/asio/io_context.hpp>

#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace ssecast::redis {

struct SentinelOptions {
    std::vector<config::HostPort> sentinels; ///< asked in this order
    std::string master;                      ///< the name in `sentinel monitor <name> …`
    std::string password;                    ///< the sentinels' own (redis.sentinel_password)
    std::chrono::milliseconds connect_timeout{2000};
    std::chrono::milliseconds command_timeout{3000};
};

/// The sentinels of one master, shared by every Connection of a node.
///
/// Holds two self-healing connections per sentinel: one for queries, one subscribed to
/// `+switch-master` (every sentinel announces a failover, so hearing it from any one is
/// enough, and a dead sentinel costs nothing but its own connections).
/// Threading: everything, callbacks included, on the io_context's thread.
class Sentinel : public std::enable_shared_from_this<Sentinel> {
  public:
    /// The master's address, or why none is known.
    using Resolved = std::function<void(std::optional<config::HostPort>, const std::string& why)>;
    using Switched = std::function<void(const config::HostPort&)>;

    static std::shared_ptr<Sentinel> create(boost::asio::io_context& ioc, SentinelOptions opts);
    ~Sentinel() { stop(); }
    Sentinel(const Sentinel&) = delete;
    Sentinel& operator=(const Sentinel&) = delete;

    /// Starts connecting to every sentinel (posted: safe before the loop runs).
    void start();
    void stop();

    /// Asks the connected sentinels, in order, `SENTINEL get-master-addr-by-name`; the first
    /// address wins. Waits up to connect_timeout for a sentinel to be connected at all.
    /// `done` runs exactly once. Connection::connect calls this before every attempt: a
    /// reconnect after a failover goes to the new master.
    void resolve(Resolved done);

    /// `fn` runs for every `+switch-master` of this master, from any sentinel (so maybe
    /// more than once per failover).
    void on_switch(Switched fn) { switch_handlers_.push_back(std::move(fn)); }

    const std::string& master_name() const noexcept { return opts_.master; }

  private:
    Sentinel(boost::asio::io_context& ioc, SentinelOptions opts);
    void ask(std::size_t from, std::chrono::steady_clock::time_point deadline, std::string why,
             Resolved done);
    void on_push(const Reply& r);

    boost::asio::io_context& ioc_;
    const SentinelOptions opts_;
    std::vector<std::shared_ptr<Connection>> queries_;  ///< one per sentinel, same order
    std::vector<std::shared_ptr<Connection>> watchers_; ///< SUBSCRIBE +switch-master
    std::vector<Switched> switch_handlers_;
    config::HostPort announced_; ///< the last +switch-master address logged
    bool stopped_ = false;
};

/// The new address in a `+switch-master` message ("<name> <old-ip> <old-port> <new-ip>
/// <new-port>") when it is about `master`; nothing otherwise.
std::optional<config::HostPort> parse_switch_master(std::string_view message,
                                                    std::string_view master);

} // namespace ssecast::redis
