// SPDX-License-Identifier: MIT
// Redis mode assembly.
#include "redis/redis_backends.hpp"

#include "config/endpoints.hpp"

#include <spdlog/spdlog.h>

#include <stdexcept>

namespace ssecast::redis {

using namespace std::chrono_literals;

namespace {
/// For the start-up line: where the password comes from, never the password.
std::string password_source(const config::Config& cfg, const config::RedisEndpoint& ep) {
    const std::string who = ep.username.empty() ? "default user" : "ACL user";
    if (!cfg.redis.password_file.empty()) {
        return who + ", password from redis.password_file";
    }
    if (!ep.password.empty()) {
        return who + ", password set";
    }
    return "no password";
}
} // namespace

std::shared_ptr<RedisNode> make_redis_node(const config::Config& cfg,
                                           const std::string& instance_id,
                                           metrics::Metrics& metrics,
                                           boost::asio::io_context& ioc) {
    auto endpoint = config::parse_redis_url(cfg.redis.url);
    if (!endpoint) {
        throw std::runtime_error("redis.url: cannot parse '" +
                                 config::redact_redis_url(cfg.redis.url) + "'");
    }
    if (!cfg.redis.password.empty()) {
        endpoint->password = cfg.redis.password; // the loader allows one source only
    }
    spdlog::info("redis: {} ({}), prefix {}", config::redact_redis_url(cfg.redis.url),
                 password_source(cfg, *endpoint), cfg.redis.prefix);
    const Keys keys(cfg.redis.prefix, instance_id);
    auto node = std::make_shared<RedisNode>();
    // Every connection of this node is made here, so each one authenticates the same way.
    auto connection = [&](std::string name) {
        ConnectionOptions o;
        o.name = std::move(name);
        o.endpoint = *endpoint;
        o.password_file = cfg.redis.password_file;
        o.connect_timeout = cfg.redis.connect_timeout;
        o.command_timeout = cfg.redis.command_timeout;
        auto c = Connection::create(ioc, std::move(o));
        node->connections.push_back(c);
        return c;
    };
    auto commands = connection("commands");
    auto subscriber = connection("subscriber");
    auto ingest = connection("ingest");

    node->broker = std::make_unique<RedisBroker>(ioc, cfg, keys, metrics, commands, subscriber);
    node->registry = std::make_unique<RedisRegistry>(ioc, cfg.redis, keys, commands);
    const publish::Limits limits{cfg.limits.max_body_bytes, cfg.limits.max_event_bytes};
    node->ingest = std::make_unique<IngestConsumer>(ioc, keys, limits, metrics, ingest, commands,
                                                    *node->broker);
    if (!cfg.rate_limits.empty()) {
        node->limiter =
            std::make_unique<RedisRateLimiter>(ioc, cfg.rate_limits, keys, metrics, commands);
    }
    node->registry->start();
    node->ingest->start();
    return node;
}

std::string RedisNode::status_of(const std::vector<std::weak_ptr<Connection>>& connections) {
    bool all_up = true;
    for (const auto& weak : connections) {
        const auto c = weak.lock();
        if (!c) {
            continue;
        }
        if (c->auth_failed()) {
            return "auth_failed";
        }
        all_up = all_up && c->up();
    }
    return all_up ? "connected" : "disconnected";
}

boost::asio::awaitable<void> shutdown_node(IngestConsumer& ingest, RedisRegistry& registry,
                                           std::chrono::milliseconds timeout) {
    ingest.stop();
    co_await registry.deregister(timeout);
}

} // namespace ssecast::redis
