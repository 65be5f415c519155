// SPDX-License-Identifier: MIT
// Publishing without HTTP: backends RPUSH events onto the `<prefix>ingest` list; every
// instance competes for items with BLMOVE into its own processing list, and the publish
// script removes the item from there in the same atomic step that stores and fans it out.
#pragma once

#include "metrics/metrics.hpp"
#include "publish/publish_body.hpp"
#include "redis/connection.hpp"
#include "redis/keys.hpp"
#include "redis/redis_broker.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

namespace ssecast::redis {

/// The check every ingest item passes before it is published: the POST /publish body rules
/// (publish::parse_body with the same `limits`; SPEC: the ingest list takes what POST
/// /publish takes). No permission check: whoever can write the list is a trusted publisher,
/// like a publish key. Returns nullopt with `out` filled, or the Refusal (code and message
/// exactly as HTTP answers them) that IngestConsumer logs and counts. No I/O, thread-safe.
std::optional<publish::Refusal>
check_ingest_item(std::string_view item, const publish::Limits& limits, publish::Body& out);

/// Exactly once across instances: an item is either in `ingest`, in one instance's
/// processing list, or published (the script's XADD/PUBLISH and LREM are one step). An item
/// the publish body validator refuses (the same one POST /publish uses) is logged, counted
/// (ssecast_ingest_refused_total) and removed, so it never blocks the list. Items
/// left in a dead instance's processing list are moved back by the cleanup script; on
/// reconnect an instance first re-publishes what is still in its own list.
/// Threading: everything on the io_context's thread. Destroy after that loop stopped.
class IngestConsumer {
  public:
    /// `conn` is a dedicated connection (BLMOVE blocks it); `commands` the shared one;
    /// `limits` are those of POST /publish.
    IngestConsumer(boost::asio::io_context& ioc, const Keys& keys, publish::Limits limits,
                   metrics::Metrics& metrics, std::shared_ptr<Connection> conn,
                   std::shared_ptr<Connection> commands, RedisBroker& broker);
    ~IngestConsumer();

    void start();
    /// redis.shards: items whose events all live on this (the first) shard keep going
    /// through publish_ingested, exactly once; any other item is published through
    /// `sharded` and then removed from the processing list, which is at least once: a crash
    /// in between publishes it again (docs/redis.md §Shards). `here` says whether a draft's
    /// topics all live on this shard. Call before the loop runs.
    void route_other_shards(broker::Broker& sharded,
                            std::function<bool(const hub::EventDraft&)> here) {
        sharded_ = &sharded;
        here_ = std::move(here);
    }
    /// Stops taking items (the connection is closed; an item already popped stays in the
    /// processing list for deregistration or cleanup to requeue).
    void stop();

  private:
    void recover(std::uint64_t gen);
    void handle(std::uint64_t gen, std::deque<std::string> items);
    void pop(std::uint64_t gen);
    void retry_soon(std::uint64_t gen);

    const Keys keys_;
    const publish::Limits limits_;
    metrics::Metrics& metrics_;
    std::shared_ptr<Connection> conn_;
    std::shared_ptr<Connection> cmd_;
    RedisBroker& broker_;
    broker::Broker* sharded_ = nullptr;
    std::function<bool(const hub::EventDraft&)> here_;
    boost::asio::steady_timer retry_timer_;
    std::uint64_t gen_ = 0; ///< bumped per (re)connect: a stale loop stops itself
    bool stopped_ = false;
};

} // namespace ssecast::redis
