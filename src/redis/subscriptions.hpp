// SPDX-License-Identifier: MIT
// Which Redis channels this instance listens on (issue #13): one entry per topic channel or
// prefix pattern its connected clients use, reference counted, (un)subscribed in batches,
// and waiters told once Redis confirmed, so that a stream reads history only after its live
// events are sure to arrive (SPEC §Resume: no gap between replay and live).
#pragma once

#include "hub/topic.hpp"
#include "redis/connection.hpp"
#include "redis/keys.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/system/error_code.hpp>

#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace ssecast::redis {

/// Not thread-safe: every member runs on the subscriber connection's io_context thread.
class Subscriptions {
  public:
    using Done = std::function<void(boost::system::error_code)>;

    /// `conn` is the subscriber connection; `on_push` gets every push reply that is not a
    /// (un)subscribe confirmation of an entry (messages, pmessages); `on_resubscribed` runs
    /// once every entry is confirmed again after connection_up() (the broker then fills
    /// the gap the outage left).
    Subscriptions(boost::asio::io_context& ioc, Connection& conn, const Keys& keys,
                  std::chrono::milliseconds confirm_timeout,
                  std::function<void(const Reply&)> on_push, std::function<void()> on_resubscribed);

    /// A channel this instance always listens on (its readiness ping).
    void keep(const std::string& channel);
    /// Makes sure events on `patterns` reach on_push; `done` runs once: success when Redis
    /// confirmed every channel (at once when all were already confirmed, or while the
    /// connection is down: the reconnect subscribes and fills the gap), or errc::timeout
    /// when no confirmation came within confirm_timeout (or backend_unavailable when the
    /// connection dropped meanwhile); then the interest is already released: do not unwatch.
    void watch(const std::vector<hub::TopicPattern>& patterns, Done done);
    /// Releases one watch() of `patterns`; a channel nobody wants any more is unsubscribed
    /// by a later tick() (in a batch, and not at all if a client comes back before).
    void unwatch(const std::vector<hub::TopicPattern>& patterns);
    /// Call on every push reply of the connection.
    void on_push(const Reply& r);
    /// After each (re)connect: subscribes every wanted entry again, in batches.
    void connection_up();
    /// After a loss of the connection: pending waiters fail; entries keep their counts.
    void connection_down();
    /// Once a second: unsubscribes idle entries, fails waiters past their deadline.
    void tick();

    /// Every pattern some client watches (for the gap fill after a reconnect).
    std::vector<hub::TopicPattern> patterns() const;
    /// Channels plus patterns currently wanted (the monitor / tests).
    std::size_t size() const noexcept { return entries_.size(); }

  private:
    enum class State { queued, sent, subscribed, unsubscribing };
    struct Waiter;
    struct Entry {
        bool is_pattern = false;
        std::size_t refs = 0;
        bool permanent = false;
        State state = State::queued;
        bool resubscribe = false;               ///< counted in awaiting_resubscribe_
        std::optional<hub::TopicPattern> topic; ///< absent for permanent channels
        std::vector<std::shared_ptr<Waiter>> waiters;
    };

    std::string name_of(const hub::TopicPattern& p, bool& is_pattern) const;
    Entry& entry_for(const std::string& name, bool is_pattern);
    void release(const std::string& name);
    void confirmed(const std::string& name);
    void fail(const std::shared_ptr<Waiter>& w, boost::system::error_code ec);
    void schedule_flush();
    /// (P)(UN)SUBSCRIBE `names` in commands of at most kPerCommand names.
    void send(std::string_view verb, const std::vector<std::string>& names);
    void flush();

    boost::asio::io_context& ioc_;
    Connection& conn_;
    const Keys& keys_;
    const std::chrono::milliseconds confirm_timeout_;
    std::function<void(const Reply&)> on_push_;
    std::function<void()> on_resubscribed_;
    std::unordered_map<std::string, Entry> entries_; ///< by channel or pattern
    std::vector<std::string> queued_;                ///< to (p)subscribe at the next flush
    bool flush_posted_ = false;
    std::size_t awaiting_resubscribe_ = 0; ///< confirmations left after connection_up()
    bool resubscribing_ = false;
};

} // namespace ssecast::redis
