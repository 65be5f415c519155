// SPDX-License-Identifier: MIT
// Redis mode assembly.
#include "redis/redis_backends.hpp"

#include "config/endpoints.hpp"

#include <stdexcept>

namespace ssecast::redis {

using namespace std::chrono_literals;

std::shared_ptr<RedisNode> make_redis_node(const config::Config& cfg,
                                           const std::string& instance_id,
                                           metrics::Metrics& metrics,
                                           boost::asio::io_context& ioc) {
    const auto endpoint = config::parse_redis_url(cfg.redis.url);
    if (!endpoint) {
        throw std::runtime_error("redis.url: cannot parse '" + cfg.redis.url + "'");
    }
    const Keys keys(cfg.redis.prefix, instance_id);
    auto options = [&](std::string name) {
        ConnectionOptions o;
        o.name = std::move(name);
        o.endpoint = *endpoint;
        return o;
    };
    auto commands = Connection::create(ioc, options("commands"));
    auto subscriber = Connection::create(ioc, options("subscriber"));
    auto ingest = Connection::create(ioc, options("ingest"));
    auto control = Connection::create(ioc, options("control"));

    auto node = std::make_shared<RedisNode>();
    node->broker = std::make_unique<RedisBroker>(ioc, cfg, keys, metrics, commands, subscriber);
    node->registry = std::make_unique<RedisRegistry>(ioc, cfg.redis, keys, commands);
    const publish::Limits limits{cfg.limits.max_body_bytes, cfg.limits.max_event_bytes};
    node->ingest = std::make_unique<IngestConsumer>(ioc, keys, limits, metrics, ingest, commands,
                                                    *node->broker);
    if (!cfg.rate_limits.empty()) {
        node->limiter =
            std::make_unique<RedisRateLimiter>(ioc, cfg.rate_limits, keys, metrics, commands);
    }
    node->control = std::make_unique<RedisControl>(ioc, keys, commands, control);
    node->registry->start();
    node->ingest->start();
    return node;
}

boost::asio::awaitable<void> shutdown_node(IngestConsumer& ingest, RedisRegistry& registry,
                                           std::chrono::milliseconds timeout) {
    ingest.stop();
    co_await registry.deregister(timeout);
}

} // namespace ssecast::redis
