// SPDX-License-Identifier: MIT
// The whole configuration of one ssecast process, as plain values. Loaded once at
// start-up by load_config() (TOML file, then SSECAST_<SECTION>_<KEY> env, then flags).
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace ssecast::config {

/// [http]
struct HttpConfig {
    std::string listen = "127.0.0.1:8080";    ///< host:port ([v6]:port accepted)
    std::vector<std::string> cors_origins;    ///< exact origins, or "*"
    std::vector<std::string> trusted_proxies; ///< CIDRs whose X-Forwarded-For is believed
    unsigned threads = 0;                     ///< event-loop shards; 0 = one per core
    std::size_t max_header_bytes = 16 * 1024; ///< request head limit (431 past it)
    std::chrono::seconds header_timeout{10};  ///< whole head must arrive within this
    std::string admin_dir;                    ///< built admin UI; "" = next to the binary
};

/// [auth]
struct AuthConfig {
    std::string jwt_secret;                ///< HS256 secret; "" = no JWT accepted
    std::optional<bool> allow_anonymous;   ///< unset = true in memory mode, false in redis
    std::vector<std::string> publish_keys; ///< static bearer keys allowed to publish anything
    std::string admin_token;               ///< bearer token for /api/admin; "" = JWT admin only
    /// RS256/ES256/EdDSA public keys (a JWKS document) read once at start; "" = none.
    std::string jwks_file;
    /// http[s]:// URL of a JWKS document, fetched at start and on an unknown `kid`; "" = none.
    std::string jwks_url;
    /// jwks_min_refresh_seconds: an unknown `kid` refetches jwks_url at most this often.
    std::chrono::seconds jwks_min_refresh{30};
    std::chrono::milliseconds jwks_timeout{3000}; ///< jwks_timeout_ms: one whole fetch
    std::string jwt_issuer;                       ///< required `iss` of every JWT; "" = not checked
    std::string jwt_audience; ///< required in `aud` (string or array); "" = not checked
    /// CA bundle (PEM) that https jwks_url / connect_url certificates must chain to;
    /// "" = the system's. The host name is always verified.
    std::string tls_ca_file;
    /// http[s]:// URL the subscribe request is checked against (SPEC connect hook); "" = none.
    std::string connect_url;
    std::chrono::seconds connect_cache{5};           ///< connect_cache_seconds; 0 = no cache
    std::chrono::milliseconds connect_timeout{1000}; ///< connect_timeout_ms: hook → 503 past it
};

/// [sse]
struct SseConfig {
    std::chrono::seconds heartbeat{15};    ///< heartbeat_seconds: ": ping" interval
    std::chrono::milliseconds retry{3000}; ///< retry_ms: sent as "retry:" on connect
    std::size_t max_topics = 32;           ///< topics per subscription
};

/// [history]
struct HistoryConfig {
    std::size_t max_events = 10000;           ///< per topic
    std::chrono::seconds max_age{3600};       ///< max_age_seconds
    std::size_t max_total_events = 1'000'000; ///< (topic, event) entries in all topics
};

/// [limits]
struct LimitsConfig {
    std::size_t max_connections = 20000;       ///< open SSE streams per instance (503 past it)
    std::size_t max_connections_per_user = 0;  ///< 0 = unlimited; global in redis mode
    std::size_t max_event_bytes = 64 * 1024;   ///< one event's data (413 past it)
    std::size_t max_body_bytes = 1024 * 1024;  ///< a whole POST body (413 past it)
    std::size_t max_queue_bytes = 1024 * 1024; ///< per-subscriber outgoing buffer
};

/// [redis]
struct RedisConfig {
    std::string url; ///< redis://[[user]:password@]host[:port][/db]; "" = memory mode
    /// SPEC §Scaling out: independent Redis nodes (or Sentinel groups), instead of `url`;
    /// each topic lives on one (broker::ShardMap). Shard 0 also holds the registry, global
    /// statistics, rate limits, admin orders and the ingest list (docs/redis.md §Shards).
    std::vector<std::string> shards;
    /// The password, when not in the URL: prefer SSECAST_REDIS_PASSWORD or password_file
    /// (a secret in a config file is easy to leak). At most one of the three is set.
    std::string password;
    std::string password_file; ///< read at start-up and before each connect; "" = none
    /// redis+sentinel://: the sentinels' own password (`requirepass` in sentinel.conf); the
    /// URL's password is the master's.
    std::string sentinel_password;
    /// A publish is answered 200 only after this many replicas acknowledged it (WAIT); 0 =
    /// answered once the master ran the script (docs/redis.md §Failover says what that risks).
    unsigned min_replicas = 0;
    std::chrono::milliseconds min_replicas_timeout{500}; ///< min_replicas_timeout_ms: then 503
    // TLS (rediss:// only). The server's certificate is verified unless tls_verify = false.
    std::string tls_ca_file;     ///< PEM CA bundle; "" = the system's trust store
    std::string tls_cert_file;   ///< client certificate chain (PEM), with tls_key_file
    std::string tls_key_file;    ///< client private key (PEM)
    std::string tls_server_name; ///< SNI and the name verified; "" = the URL's host
    bool tls_verify = true;
    std::chrono::milliseconds connect_timeout{2000}; ///< connect_timeout_ms: TCP + AUTH
    std::chrono::milliseconds command_timeout{3000}; ///< command_timeout_ms: then 503, reconnect
    std::string prefix = "ssecast:";                 ///< every key and channel starts with it
    std::string instance_id;                         ///< "" = <hostname>-<random>
    std::chrono::seconds heartbeat{2};    ///< heartbeat_seconds: instance heartbeat period
    std::chrono::seconds instance_ttl{6}; ///< instance_ttl_seconds: dead after this
};

/// [shutdown]
struct ShutdownConfig {
    std::chrono::seconds grace{10}; ///< grace_seconds
};

enum class RateLimitEndpoint { sse, publish };
enum class RateLimitIdentifier { user_or_ip, ip, user };

/// One [[rate_limit]] entry.
struct RateLimitRule {
    RateLimitEndpoint endpoint = RateLimitEndpoint::sse;
    RateLimitIdentifier identifier = RateLimitIdentifier::user_or_ip;
    std::uint32_t limit = 0;
    std::chrono::seconds window{60};
};

/// [log]
struct LogConfig {
    std::string level = "info";
    std::string format = "text"; ///< "text" (one line per record) or "json" (one object per line)
};

struct Config {
    HttpConfig http;
    AuthConfig auth;
    SseConfig sse;
    HistoryConfig history;
    LimitsConfig limits;
    RedisConfig redis;
    ShutdownConfig shutdown;
    LogConfig log;
    std::vector<RateLimitRule> rate_limits;

    bool redis_mode() const { return !redis.url.empty() || !redis.shards.empty(); }
    /// The Redis URL of every shard: redis.shards, or redis.url as the only one.
    std::vector<std::string> redis_urls() const {
        return !redis.shards.empty() ? redis.shards
               : redis.url.empty()   ? std::vector<std::string>{}
                                     : std::vector<std::string>{redis.url};
    }
    /// SPEC §Subscribe: anonymous by default in memory mode only.
    bool anonymous_allowed() const { return auth.allow_anonymous.value_or(!redis_mode()); }
};

} // namespace ssecast::config
