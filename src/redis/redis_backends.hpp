// SPDX-License-Identifier: MIT
// Assembles redis mode: its connections (commands, subscriber, ingest, control, and publish
// when redis.min_replicas > 0), all with the same credentials (and Sentinel), the broker, the
// registry and the ingest consumer. app/backends.cpp turns this into app::Backends.
#pragma once

#include "config/config.hpp"
#include "metrics/metrics.hpp"
#include "redis/ingest_consumer.hpp"
#include "redis/redis_broker.hpp"
#include "redis/redis_control.hpp"
#include "redis/redis_rate_limiter.hpp"
#include "redis/redis_registry.hpp"
#include "redis/sentinel.hpp"

#include <boost/asio/awaitable.hpp>
#include <boost/asio/io_context.hpp>

#include <memory>
#include <string>
#include <vector>

namespace ssecast::redis {

/// Everything redis mode runs. All Redis I/O happens on the io_context passed to
/// make_redis_node (shard 0's loop); every callback into the rest of the program
/// (Broker deliver/done, registry snapshot done) runs on that loop's thread.
/// Destroy `ingest` first, then `registry`, then `broker` (make_backends' order), and only
/// after that loop stopped running; destroying any of them stops the shared `commands`
/// connection (its pending callbacks complete with an error first).
struct RedisNode {
    std::unique_ptr<RedisBroker> broker;
    std::unique_ptr<RedisRegistry> registry;
    std::unique_ptr<IngestConsumer> ingest;
    /// Null when no [[rate_limit]] rule is configured (then no Redis round trip at all).
    /// Any destruction order is safe (its state is shared with in-flight callbacks).
    std::unique_ptr<RedisRateLimiter> limiter;
    /// Admin orders (disconnect, block) to every instance; its own subscriber connection.
    std::unique_ptr<RedisControl> control;

    /// redis+sentinel://: the sentinels every connection asks for the master; else null.
    std::shared_ptr<Sentinel> sentinel;

    /// Every connection the node opened (sentinels not included), for status_of.
    std::vector<std::weak_ptr<Connection>> connections;

    /// The monitor's `redis.status` (SPEC §Redis in production: the monitor says why):
    /// "auth_failed" when Redis refuses any connection's credentials or ACL (see
    /// Connection::auth_failed), else "connected" when all are up, else "tls_failed" when a
    /// TLS handshake failed (untrusted certificate, wrong name), else "disconnected".
    /// Thread-safe; connections already destroyed are skipped.
    static std::string status_of(const std::vector<std::weak_ptr<Connection>>& connections);
};

/// Drain step (app's Backends::shutdown): stop taking ingest items, then remove this
/// instance from Redis, waiting at most `timeout`. Runs on the Redis loop.
boost::asio::awaitable<void> shutdown_node(IngestConsumer& ingest, RedisRegistry& registry,
                                           std::chrono::milliseconds timeout);

/// Builds and starts (connections begin once the loop runs) redis mode for `cfg` on the
/// node at `url` (redis.url, or shard 0 of redis.shards). Throws std::runtime_error naming
/// the key if the URL does not parse (config validated it) or a TLS CA, certificate or key
/// file cannot be loaded.
std::shared_ptr<RedisNode> make_redis_node(const config::Config& cfg, const std::string& url,
                                           const std::string& instance_id,
                                           metrics::Metrics& metrics, boost::asio::io_context& ioc);

/// A shard after the first (docs/redis.md §Shards): only a broker for the topics on it,
/// with its commands and subscriber connections (and publish, with redis.min_replicas).
struct RedisShard {
    std::unique_ptr<RedisBroker> broker;
    std::vector<std::weak_ptr<Connection>> connections; ///< for RedisNode::status_of
};

/// Builds shard `index` of redis.shards at `url`; throws like make_redis_node.
RedisShard make_redis_shard(const config::Config& cfg, const std::string& url, std::size_t index,
                            const std::string& instance_id, metrics::Metrics& metrics,
                            boost::asio::io_context& ioc);

} // namespace ssecast::redis
