// SPDX-License-Identifier: MIT
// Redis mode assembly.
#include "redis/redis_backends.hpp"

#include "config/endpoints.hpp"

#include <boost/asio/ssl/context.hpp>

#include <openssl/ssl.h>

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
/// The TLS settings of every connection, or none for redis://. Throws std::runtime_error
/// naming the key when a CA, certificate or key file cannot be loaded.
TlsOptions make_tls(const config::RedisConfig& rc, const config::RedisEndpoint& ep) {
    namespace ssl = boost::asio::ssl;
    TlsOptions tls;
    if (!ep.tls) {
        return tls;
    }
    auto ctx = std::make_shared<ssl::context>(ssl::context::tls_client);
    SSL_CTX_set_min_proto_version(ctx->native_handle(), TLS1_2_VERSION);
    boost::system::error_code ec;
    auto check = [&](const char* key, const std::string& path) {
        if (ec) {
            throw std::runtime_error(std::string(key) + ": cannot load " + path + ": " +
                                     ec.message());
        }
    };
    if (rc.tls_ca_file.empty()) {
        ctx->set_default_verify_paths(ec);
        check("redis.tls_ca_file", "the system trust store");
    } else {
        ctx->load_verify_file(rc.tls_ca_file, ec);
        check("redis.tls_ca_file", rc.tls_ca_file);
    }
    if (!rc.tls_cert_file.empty()) {
        ctx->use_certificate_chain_file(rc.tls_cert_file, ec);
        check("redis.tls_cert_file", rc.tls_cert_file);
        ctx->use_private_key_file(rc.tls_key_file, ssl::context::pem, ec);
        check("redis.tls_key_file", rc.tls_key_file);
    }
    tls.context = std::move(ctx);
    tls.server_name = rc.tls_server_name.empty() ? ep.host : rc.tls_server_name;
    tls.verify = rc.tls_verify;
    if (!tls.verify) {
        spdlog::warn("redis.tls_verify = false: the Redis server's certificate is not checked");
    }
    return tls;
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
    spdlog::info("redis: {} ({}{}{}), prefix {}", config::redact_redis_url(cfg.redis.url),
                 password_source(cfg, *endpoint), endpoint->tls ? ", TLS" : "",
                 endpoint->sentinels.empty() ? "" : ", master found through Sentinel",
                 cfg.redis.prefix);
    const auto tls = make_tls(cfg.redis, *endpoint);
    const Keys keys(cfg.redis.prefix, instance_id);
    auto node = std::make_shared<RedisNode>();
    if (!endpoint->sentinels.empty()) {
        SentinelOptions so;
        so.sentinels = endpoint->sentinels;
        so.master = endpoint->master;
        so.password = cfg.redis.sentinel_password;
        so.connect_timeout = cfg.redis.connect_timeout;
        so.command_timeout = cfg.redis.command_timeout;
        node->sentinel = Sentinel::create(ioc, std::move(so));
        node->sentinel->start();
    }
    // Every connection of this node is made here, so each one authenticates the same way.
    auto connection = [&](std::string name) {
        ConnectionOptions o;
        o.name = std::move(name);
        o.endpoint = *endpoint;
        o.password_file = cfg.redis.password_file;
        o.tls = tls;
        o.connect_timeout = cfg.redis.connect_timeout;
        o.command_timeout = cfg.redis.command_timeout;
        o.sentinel = node->sentinel;
        auto c = Connection::create(ioc, std::move(o));
        node->connections.push_back(c);
        return c;
    };
    auto commands = connection("commands");
    auto subscriber = connection("subscriber");
    auto ingest = connection("ingest");
    auto control = connection("control");

    // WAIT blocks its connection until the replicas answer: publishes get their own then.
    auto publisher = cfg.redis.min_replicas > 0 ? connection("publish") : nullptr;

    node->broker =
        std::make_unique<RedisBroker>(ioc, cfg, keys, metrics, commands, subscriber, publisher);
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

std::string RedisNode::status_of(const std::vector<std::weak_ptr<Connection>>& connections) {
    bool all_up = true;
    bool tls_failed = false;
    for (const auto& weak : connections) {
        const auto c = weak.lock();
        if (!c) {
            continue;
        }
        if (c->auth_failed()) {
            return "auth_failed";
        }
        tls_failed = tls_failed || c->tls_failed();
        all_up = all_up && c->up();
    }
    return all_up ? "connected" : tls_failed ? "tls_failed" : "disconnected";
}

boost::asio::awaitable<void> shutdown_node(IngestConsumer& ingest, RedisRegistry& registry,
                                           std::chrono::milliseconds timeout) {
    ingest.stop();
    co_await registry.deregister(timeout);
}

} // namespace ssecast::redis
