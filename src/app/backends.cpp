// SPDX-License-Identifier: MIT
// Backend selection.
#include "app/backends.hpp"

#include "broker/memory_broker.hpp"
#include "broker/sharded_broker.hpp"
#include "common/clock.hpp"
#include "ratelimit/memory_rate_limiter.hpp"
#include "redis/redis_backends.hpp"

#include <algorithm>
#include <stdexcept>

namespace ssecast::app {

namespace {
/// Bound on deregistering from Redis during drain (SIGTERM must exit within the grace).
constexpr std::chrono::milliseconds kDeregisterTimeout{1500};
} // namespace

Backends make_backends(const config::Config& cfg, const std::string& instance_id,
                       metrics::Metrics& metrics, boost::asio::io_context& ioc) {
    Backends b;
    if (cfg.redis_mode()) {
        // All Redis I/O runs on `ioc` (shard 0); redis/redis_backends.hpp has the threading.
        const auto urls = cfg.redis_urls();
        auto node = redis::make_redis_node(cfg, urls.front(), instance_id, metrics, ioc);
        auto* broker = node->broker.get();
        auto* registry = node->registry.get();
        b.registry = std::move(node->registry);
        b.limiter = std::move(node->limiter); // null without rules: NoRateLimiter below
        b.control = std::move(node->control);
        // Ready while shard 0 is (it holds the registry, rate limits and admin orders): a
        // down shard fails only its own topics' publishes, and draining every instance for
        // it would help nobody (docs/redis.md §Shards).
        b.ready = [broker] { return broker->ready(); };
        std::vector<std::vector<std::weak_ptr<redis::Connection>>> per_shard{node->connections};
        if (urls.size() == 1) {
            b.broker = std::move(node->broker);
        } else {
            std::vector<std::unique_ptr<broker::Broker>> shards;
            shards.push_back(std::move(node->broker));
            for (std::size_t i = 1; i < urls.size(); ++i) {
                auto shard = redis::make_redis_shard(cfg, urls[i], i, instance_id, metrics, ioc);
                per_shard.push_back(shard.connections);
                shards.push_back(std::move(shard.broker));
            }
            auto sharded = std::make_unique<broker::ShardedBroker>(std::move(shards));
            node->ingest->route_other_shards(*sharded, [map = sharded->map()](
                                                           const hub::EventDraft& d) {
                return std::all_of(d.topics.begin(), d.topics.end(),
                                   [&map](const std::string& t) { return map.of_topic(t) == 0; });
            });
            b.shard_status = [per_shard] {
                std::vector<std::string> out;
                for (const auto& connections : per_shard) {
                    out.push_back(redis::RedisNode::status_of(connections));
                }
                return out;
            };
            b.broker = std::move(sharded);
        }
        b.redis_status = [per_shard] {
            std::vector<std::weak_ptr<redis::Connection>> all;
            for (const auto& connections : per_shard) {
                all.insert(all.end(), connections.begin(), connections.end());
            }
            return redis::RedisNode::status_of(all);
        };
        // Destroyed first (Backends' last member), so the ingest consumer goes before the
        // broker it publishes through.
        b.shutdown = [node, registry]() -> boost::asio::awaitable<void> {
            co_await redis::shutdown_node(*node->ingest, *registry, kDeregisterTimeout);
        };
    } else {
        auto broker = std::make_unique<broker::MemoryBroker>(cfg.history, SystemClock::instance());
        b.cron = [raw = broker.get()] { raw->trim_history(); };
        b.broker = std::move(broker);
        b.registry = std::make_unique<registry::MemoryRegistry>(instance_id);
        b.control = std::make_unique<broker::MemoryControl>();
        b.shutdown = []() -> boost::asio::awaitable<void> { co_return; };
    }
    // redis mode with rules already has its RedisRateLimiter (global, local fallback inside).
    if (!b.limiter && cfg.rate_limits.empty()) {
        b.limiter = std::make_unique<ratelimit::NoRateLimiter>();
    } else if (!b.limiter) {
        b.limiter = std::make_unique<ratelimit::MemoryRateLimiter>(cfg.rate_limits,
                                                                   SystemClock::instance());
    }
    return b;
}

} // namespace ssecast::app
