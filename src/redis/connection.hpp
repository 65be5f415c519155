// SPDX-License-Identifier: MIT
// One Redis connection that keeps itself alive: plain TCP or TLS (transport.hpp), AUTH/SELECT
// before any command, connect and command timeouts, reconnect with exponential backoff and
// full jitter.
#pragma once

#include "common/errc.hpp"
#include "config/endpoints.hpp"
#include "redis/reply.hpp"
#include "redis/transport.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <random>
#include <string>
#include <string_view>
#include <vector>

namespace ssecast::redis {

class Sentinel;

struct ConnectionOptions {
    std::string name; ///< for log lines: "commands", "subscriber", "ingest"
    /// Address, db and credentials. endpoint.password is used unless password_file is set.
    config::RedisEndpoint endpoint;
    /// Re-read before every connect attempt, so a rotated password needs no restart.
    std::string password_file;
    TlsOptions tls; ///< rediss://: TLS with these settings; else plain TCP
    /// TCP connect plus the handshake (AUTH, SELECT or PING) must finish within this.
    std::chrono::milliseconds connect_timeout{2000};
    std::chrono::milliseconds command_timeout{3000};
    std::chrono::milliseconds backoff_base{100};
    std::chrono::milliseconds backoff_cap{5000};
    /// redis+sentinel://: where to find the master (endpoint.host/port are then unused).
    /// Every attempt asks it first, the handshake checks ROLE, and a +switch-master notice
    /// drops the link to rediscover. (A READONLY, LOADING or MASTERDOWN reply drops the link
    /// in every mode: the command fails as backend_unavailable.)
    std::shared_ptr<Sentinel> sentinel;
};

/// A self-healing Redis connection bound to one io_context: pipelined commands over one
/// Transport, replies matched to commands in order (RESP2 has no ids).
///
/// Handshake: after every TCP connect it sends `AUTH [user] password` (when a password is
/// configured) and `SELECT db` (db ≠ 0), or `PING` when neither applies, and is up() only
/// once every handshake reply succeeded: no caller's command ever runs unauthenticated or
/// in the wrong database, and a Redis that accepts connections but never answers is down.
/// A refused handshake (wrong password, unknown user, NOAUTH, NOPERM) closes the link and
/// retries with the usual backoff; auth_failed() says so until a handshake succeeds.
/// Logging: the first failure of a retry burst is logged (warn), a repeat of the same
/// reason at most once a minute (else debug), and the recovery once; never a password.
///
/// Threading: every member except up() must be called on the io_context's thread, and
/// every callback (replies, push messages, up/down handlers) runs on that thread.
/// Ownership: create() returns a shared_ptr; internal timers hold weak references, so
/// dropping the last shared_ptr (after stop()) ends everything.
class Connection : public std::enable_shared_from_this<Connection> {
  public:
    using Done = std::function<void(result<Reply>)>;
    using PushHandler = std::function<void(const Reply&)>;

    static std::shared_ptr<Connection> create(boost::asio::io_context& ioc, ConnectionOptions opts);
    ~Connection();
    Connection(const Connection&) = delete;
    Connection& operator=(const Connection&) = delete;

    /// Starts connecting (posted: safe from any thread before the loop runs).
    void start();
    /// Closes the connection for good. Pending commands complete with
    /// errc::backend_unavailable before stop() returns; no reconnect afterwards.
    void stop();

    /// Connected, authenticated and usable. Thread-safe.
    bool up() const noexcept { return up_.load(std::memory_order_acquire); }
    /// Redis refused this connection's credentials or ACL: the last handshake failed on
    /// AUTH (or NOAUTH/NOPERM/WRONGPASS), the password file cannot be read, or a command got
    /// a NOPERM/NOAUTH reply within the last 3 s. Thread-safe (the monitor reads it).
    bool auth_failed() const noexcept;
    /// The last attempt failed in the TLS handshake (untrusted certificate, wrong name, no
    /// TLS on the port); cleared by a successful connect. Thread-safe.
    bool tls_failed() const noexcept;
    const std::string& name() const noexcept { return opts_.name; }

    /// Runs after each successful (re)connect, in registration order.
    void on_up(std::function<void()> fn) { up_handlers_.push_back(std::move(fn)); }
    /// Runs after each loss of an established connection, with the reason.
    void on_down(std::function<void(const std::string&)> fn) {
        down_handlers_.push_back(std::move(fn));
    }

    /// Sends one command. `done` runs exactly once: with the reply (a Redis error reply is
    /// a value), errc::backend_unavailable if the connection is down or drops before the
    /// reply, or errc::timeout after `timeout` (default command_timeout), in which case the
    /// connection is also dropped and re-established (an unanswered command means a dead
    /// link). When down, `done` runs synchronously inside this call.
    void command(std::vector<std::string> args, Done done,
                 std::optional<std::chrono::milliseconds> timeout = std::nullopt);

    /// A pub/sub command: `verb` is SUBSCRIBE, PSUBSCRIBE, UNSUBSCRIBE or PUNSUBSCRIBE.
    /// `on_push` (kept for later commands too) gets every push reply (["subscribe", ch, n],
    /// ["message", ch, payload], ["pmessage", pattern, ch, payload], ...) until the
    /// connection drops. Call from an on_up handler; after a reconnect, subscribe again. A
    /// subscribed connection takes no other command. Does nothing while down.
    void pubsub(std::string_view verb, const std::vector<std::string>& names, PushHandler on_push);

  private:
    /// connecting: TCP (and TLS) in progress; handshaking: AUTH/SELECT/PING sent, not up yet.
    enum class State { idle, connecting, handshaking, connected, stopped };
    /// Why the last attempt failed, when the monitor should say so.
    enum class Failure { none, auth, tls };
    struct Pending {
        Done done;
        std::chrono::steady_clock::time_point deadline;
    };

    Connection(boost::asio::io_context& ioc, ConnectionOptions opts);
    void connect();
    /// TCP (and TLS) to target_, bounded by the connect timeout.
    void open_link();
    void start_handshake();
    /// A sentinel says the master moved: drop a link to the old one, or retry now if idle.
    void master_switched(const config::HostPort& to);
    /// "host:port", or "master NAME" before a sentinel named it: for log lines.
    std::string where() const;
    void finish_handshake();
    /// Ends the current link (attempt or established): fails every pending command with
    /// backend_unavailable, runs the down handlers if it was up, schedules a retry.
    /// `repeatable`: a reason that can recur on every reconnect (a READONLY reply from a
    /// node that stays a replica): logged at warn at most once a minute.
    void lose(const std::string& why, bool repeatable = false);
    /// Schedules the next attempt; logs per the burst rule in the class comment.
    void retry_later(const std::string& why, bool was_connected, bool repeatable = false);
    void on_reply(const redisReply& r);
    void send(std::vector<std::string> args, std::chrono::steady_clock::time_point deadline,
              Done done);
    void complete(std::uint64_t id, result<Reply> r);
    void sweep_timeouts();
    void arm_sweep();

    boost::asio::io_context& ioc_;
    const ConnectionOptions opts_;
    config::HostPort target_;         ///< the endpoint's address, or the master a sentinel named
    std::shared_ptr<Transport> link_; ///< the current attempt or connection; null when idle
    State state_ = State::idle;
    std::atomic<bool> up_{false};
    unsigned attempt_ = 0;
    bool subscribed_ = false;         ///< SUBSCRIBE sent on this link: replies are pushes
    std::deque<std::uint64_t> order_; ///< ids of sent commands, in reply order
    // Handshake of the current link (loop thread).
    std::string password_;           ///< for this attempt; redacted out of error text
    std::vector<std::string> steps_; ///< "AUTH", "SELECT 2", "PING": reply order
    // Retry-burst logging (loop thread).
    std::string logged_why_; ///< the reason last logged at warn in this burst
    std::chrono::steady_clock::time_point logged_at_{};
    std::chrono::steady_clock::time_point burst_started_{};
    std::string repeated_why_; ///< the last repeatable loss logged at warn, and when
    std::chrono::steady_clock::time_point repeated_at_{};
    std::atomic<Failure> failure_{Failure::none};
    std::atomic<std::int64_t> refused_at_ns_{0}; ///< last NOPERM/NOAUTH reply (steady ns)
    boost::asio::steady_timer connect_timer_;
    boost::asio::steady_timer retry_timer_;
    boost::asio::steady_timer sweep_timer_;
    bool sweep_armed_ = false;
    std::uint64_t next_id_ = 1;
    std::map<std::uint64_t, Pending> pending_;
    PushHandler push_;
    std::vector<std::function<void()>> up_handlers_;
    std::vector<std::function<void(const std::string&)>> down_handlers_;
    std::minstd_rand rng_;
};

/// The delay before reconnect attempt `attempt` (0-based): full jitter, uniform in
/// [base/2, min(cap, base·2^attempt)], so a fleet never retries in lockstep and never spins.
std::chrono::milliseconds backoff_delay(unsigned attempt, std::chrono::milliseconds base,
                                        std::chrono::milliseconds cap, std::minstd_rand& rng);

} // namespace ssecast::redis
