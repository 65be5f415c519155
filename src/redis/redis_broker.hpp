// SPDX-License-Identifier: MIT
// Broker over Redis: a capped stream per topic for shared history, a global id, pub/sub per
// topic for fan-out, all written by one Lua script so an event is stored iff it is fanned
// out; publishes are group-committed, and an instance subscribes only to the topics its
// clients use (docs/redis.md, issue #13).
#pragma once

#include "broker/broker.hpp"
#include "config/config.hpp"
#include "metrics/metrics.hpp"
#include "redis/connection.hpp"
#include "redis/id_check.hpp"
#include "redis/keys.hpp"
#include "redis/script.hpp"
#include "redis/subscriptions.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>

#include <atomic>
#include <chrono>
#include <deque>
#include <limits>
#include <memory>
#include <string>

namespace ssecast::redis {

/// Implements broker::Broker's ordering guarantees across instances:
///  - ids are assigned inside the publish script (Redis runs scripts one at a time), so
///    they increase in publish order everywhere, and never go below the newest id this
///    instance has seen, even after Redis lost its data;
///  - the script XADDs and PUBLISHes together: stored iff fanned out; concurrent publishes
///    on this instance share one script call (group commit), each request still atomic;
///  - one subscriber connection per instance receives, in execution (= id) order, the
///    channels its streams watch; after a resubscribe the gap is filled from the topics'
///    streams, and ids ≤ the last delivered one are dropped, so `deliver` sees each event
///    once (an event on two watched topics arrives twice and is delivered once).
/// Threading: all Redis I/O and every callback (`deliver`, `done`) run on the io_context
/// given to the constructor (shard 0's loop). publish()/replay() may be called from any
/// thread; they post to that loop. Destroy only after that loop stopped running.
class RedisBroker final : public broker::Broker {
  public:
    /// `commands` is shared with the registry; `subscriber` is this broker's own;
    /// `publisher` (null = `commands`) runs the publish script, and its own connection when
    /// redis.min_replicas > 0, so a WAIT holds up no registry or rate-limit command.
    /// `shard`: this node's place in redis.shards, stamped on its events (hub::Event::shard).
    RedisBroker(boost::asio::io_context& ioc, const config::Config& cfg, const Keys& keys,
                metrics::Metrics& metrics, std::shared_ptr<Connection> commands,
                std::shared_ptr<Connection> subscriber,
                std::shared_ptr<Connection> publisher = nullptr, std::uint16_t shard = 0);
    ~RedisBroker() override;

    void start(Deliver deliver) override;
    /// errc::backend_unavailable at once while the command connection is down (→ 503).
    void publish(std::vector<hub::EventDraft> drafts, PublishDone done) override;
    /// One replay.lua call per page: at most q.max_scan entries looked at, topic-filtered in
    /// Redis, at most q.max_bytes of payload returned. Fails (errc::backend_unavailable /
    /// timeout) while Redis is unreachable.
    void replay(history::ReplayQuery q, ReplayDone done) override;
    /// SUBSCRIBE/PSUBSCRIBE in batches on the loop; `done` once Redis confirmed.
    void watch(std::vector<hub::TopicPattern> patterns, WatchDone done) override;
    void unwatch(std::vector<hub::TopicPattern> patterns) override;
    void stop() override;
    std::string_view name() const noexcept override { return "redis"; }

    /// Ready to serve (docs/redis.md §Readiness): both connections up, a PUBLISH → receive
    /// round trip on this instance's ping channel within the last 3 s (a dead subscription
    /// makes the node not ready), a publish check (the publish script run with no events,
    /// which validates everything a publish needs and writes nothing) passed within the
    /// last 3 s, and no publish script failed within the last 3 s. Thread-safe.
    bool ready() const noexcept;
    /// "connected" when both connections are up, else "disconnected". Thread-safe.
    std::string status() const;
    /// Whether this broker sets the redis_up and redis_publish_ok gauges (default true).
    /// With redis.shards only shard 0's does: one gauge cannot show several nodes. Call
    /// before the loop runs.
    void report_gauges(bool on) noexcept { gauges_ = on; }

    /// Publishes `drafts` while removing `item` from this instance's ingest processing
    /// list in the same script; `done` gets an empty id list when the item was no longer
    /// there (already requeued or published). Call on the io_context thread.
    void publish_ingested(std::vector<hub::EventDraft> drafts, std::string item, PublishDone done);

  private:
    struct Request {
        std::vector<hub::EventDraft> drafts;
        PublishDone done;
    };
    /// Sends the queued requests as one publish.lua call, if fewer than kMaxInFlight are
    /// outstanding (group commit: a burst waits for at most one round trip).
    void flush_publishes();
    /// Runs publish.lua for `requests` (with an ingest `item` to consume, or ""); with no
    /// requests it is a check that writes nothing.
    void run_publish(std::vector<Request> requests, std::string item);
    void check_publish();
    /// Hands each request its ids (the publish is acknowledged).
    static void answer(std::vector<Request>& requests, std::vector<std::vector<sse::EventId>>& ids);
    /// WAIT for redis.min_replicas, then answer, or 503 when too few acknowledged in time.
    void await_replicas(std::vector<Request> requests, std::vector<std::vector<sse::EventId>> ids);
    /// Runs upgrade.lua: drops the history of a pre-#13 layout once (a clean start).
    void upgrade_layout();
    /// Records a script outcome for ready() and the redis_publish_ok gauge; logs failures.
    void note_publish_outcome(bool ok, bool check_only, const std::string& why);
    /// Counts an id refused from Redis (`source`: where it was read) and logs at most one
    /// warning per 10 s.
    void refused_id(std::string_view source, std::string_view text, IdVerdict verdict);
    void on_subscriber_up();
    void on_push(const Reply& r);
    /// After every channel is confirmed again: reads what was published meanwhile.
    void fill_gap();
    void request_fill(bool first_try);
    void deliver_payload(const std::string& payload);
    void deliver_entries(const Reply& entries);
    void arm_ping();
    void update_gauge();

    boost::asio::io_context& ioc_;
    const config::Config& cfg_;
    const Keys keys_;
    metrics::Metrics& metrics_;
    const std::uint16_t shard_;
    std::shared_ptr<Connection> cmd_;
    std::shared_ptr<Connection> sub_;
    std::shared_ptr<Connection> pub_; ///< publish script (and WAIT); may be cmd_
    std::shared_ptr<Script> publish_script_;
    std::shared_ptr<Script> replay_script_;
    std::shared_ptr<Script> upgrade_script_;
    Subscriptions subs_;
    boost::asio::steady_timer ping_timer_;
    boost::asio::steady_timer fill_retry_; ///< retries the catch-up read until it succeeds
    // Loop-thread state.
    Deliver deliver_;
    sse::EventId floor_;           ///< newest id seen (published or delivered)
    sse::EventId last_delivered_;  ///< newest id handed to deliver_
    bool filling_ = false;         ///< gap fill after a resubscribe in progress
    sse::EventId fill_after_;      ///< where the gap fill's next page starts
    std::deque<std::string> held_; ///< live messages held back while filling
    std::vector<Request> queued_;  ///< publishes waiting for the next script call
    std::size_t in_flight_ = 0;    ///< publish.lua calls awaiting their reply
    bool stopped_ = false;
    bool gauges_ = true;
    bool publish_failing_ = false; ///< the last script outcome was a failure (log once)
    std::chrono::steady_clock::time_point last_id_warning_{};
    std::uint64_t ids_refused_quietly_ = 0; ///< refused since the last warning
    std::chrono::steady_clock::time_point last_replica_warning_{};
    // Read from any thread.
    std::atomic<std::int64_t> last_pong_ns_{0};       ///< steady clock, ns since epoch
    std::atomic<std::int64_t> last_publish_ok_ns_{0}; ///< last script success (same clock)
    /// Last script failure; starts a window in the past so a fresh broker is not held back.
    std::atomic<std::int64_t> last_publish_failed_ns_{std::numeric_limits<std::int64_t>::min() / 2};
};

} // namespace ssecast::redis
