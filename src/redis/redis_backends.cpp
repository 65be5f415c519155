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

namespace {
/// One Redis node's endpoint and the factory of its connections: every connection to it is
/// made here, so each one authenticates (and finds the master through Sentinel) the same way.
class NodeConnections {
  public:
    NodeConnections(const config::Config& cfg, const std::string& url, std::string_view what,
                    boost::asio::io_context& ioc)
        : cfg_(cfg), ioc_(ioc) {
        auto endpoint = config::parse_redis_url(url);
        if (!endpoint) {
            throw std::runtime_error(std::string(what) + ": cannot parse '" +
                                     config::redact_redis_url(url) + "'");
        }
        if (!cfg.redis.password.empty() && endpoint->password.empty()) {
            endpoint->password = cfg.redis.password; // the loader allows one source only
        }
        spdlog::info(
            "redis{}: {} ({}{}{}), prefix {}", what == "redis.url" ? "" : " " + std::string(what),
            config::redact_redis_url(url), password_source(cfg, *endpoint),
            endpoint->tls ? ", TLS" : "",
            endpoint->sentinels.empty() ? "" : ", master found through Sentinel", cfg.redis.prefix);
        tls_ = make_tls(cfg.redis, *endpoint);
        if (!endpoint->sentinels.empty()) {
            SentinelOptions so;
            so.sentinels = endpoint->sentinels;
            so.master = endpoint->master;
            so.password = cfg.redis.sentinel_password;
            so.connect_timeout = cfg.redis.connect_timeout;
            so.command_timeout = cfg.redis.command_timeout;
            sentinel_ = Sentinel::create(ioc, std::move(so));
            sentinel_->start();
        }
        endpoint_ = std::move(*endpoint);
    }

    std::shared_ptr<Connection> make(std::string name) {
        ConnectionOptions o;
        o.name = std::move(name);
        o.endpoint = endpoint_;
        o.password_file = cfg_.redis.password_file;
        o.tls = tls_;
        o.connect_timeout = cfg_.redis.connect_timeout;
        o.command_timeout = cfg_.redis.command_timeout;
        o.sentinel = sentinel_;
        auto c = Connection::create(ioc_, std::move(o));
        made_.push_back(c);
        return c;
    }

    const std::shared_ptr<Sentinel>& sentinel() const noexcept { return sentinel_; }
    const std::vector<std::weak_ptr<Connection>>& made() const noexcept { return made_; }

  private:
    const config::Config& cfg_;
    boost::asio::io_context& ioc_;
    config::RedisEndpoint endpoint_;
    TlsOptions tls_;
    std::shared_ptr<Sentinel> sentinel_;
    std::vector<std::weak_ptr<Connection>> made_;
};

/// The broker's connections: commands and subscriber, and its own for publishes when
/// redis.min_replicas > 0 (WAIT blocks its connection until the replicas answer).
std::unique_ptr<RedisBroker> make_broker(NodeConnections& node, const config::Config& cfg,
                                         const Keys& keys, metrics::Metrics& metrics,
                                         boost::asio::io_context& ioc,
                                         std::shared_ptr<Connection> commands,
                                         std::uint16_t shard) {
    auto subscriber = node.make("subscriber");
    auto publisher = cfg.redis.min_replicas > 0 ? node.make("publish") : nullptr;
    return std::make_unique<RedisBroker>(ioc, cfg, keys, metrics, std::move(commands),
                                         std::move(subscriber), std::move(publisher), shard);
}
} // namespace

std::shared_ptr<RedisNode> make_redis_node(const config::Config& cfg, const std::string& url,
                                           const std::string& instance_id,
                                           metrics::Metrics& metrics,
                                           boost::asio::io_context& ioc) {
    NodeConnections conns(cfg, url, cfg.redis.shards.empty() ? "redis.url" : "shard 0", ioc);
    const Keys keys(cfg.redis.prefix, instance_id);
    auto node = std::make_shared<RedisNode>();
    node->sentinel = conns.sentinel();
    auto commands = conns.make("commands");
    node->broker = make_broker(conns, cfg, keys, metrics, ioc, commands, 0);
    auto ingest = conns.make("ingest");
    auto control = conns.make("control");
    node->registry = std::make_unique<RedisRegistry>(ioc, cfg.redis, keys, commands);
    const publish::Limits limits{cfg.limits.max_body_bytes, cfg.limits.max_event_bytes};
    node->ingest = std::make_unique<IngestConsumer>(ioc, keys, limits, metrics, ingest, commands,
                                                    *node->broker);
    if (!cfg.rate_limits.empty()) {
        node->limiter =
            std::make_unique<RedisRateLimiter>(ioc, cfg.rate_limits, keys, metrics, commands);
    }
    node->control = std::make_unique<RedisControl>(ioc, keys, commands, control);
    node->connections = conns.made();
    node->registry->start();
    node->ingest->start();
    return node;
}

RedisShard make_redis_shard(const config::Config& cfg, const std::string& url, std::size_t index,
                            const std::string& instance_id, metrics::Metrics& metrics,
                            boost::asio::io_context& ioc) {
    NodeConnections conns(cfg, url, "shard " + std::to_string(index), ioc);
    const Keys keys(cfg.redis.prefix, instance_id);
    RedisShard shard;
    shard.broker = make_broker(conns, cfg, keys, metrics, ioc, conns.make("commands"),
                               static_cast<std::uint16_t>(index));
    shard.broker->report_gauges(false); // shard 0's broker owns redis_up / publish_ok
    shard.connections = conns.made();
    return shard;
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
