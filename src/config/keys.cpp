// SPDX-License-Identifier: MIT
// The configuration key table: each key is declared once with its parser and validator
// (SPEC §Configuration). Shared by the TOML file, SSECAST_* env variables and flags.
#include "config/keys.hpp"
#include "common/strings.hpp"

#include "config/endpoints.hpp"
#include "config/secret_file.hpp"

#include <algorithm>
#include <array>
#include <cctype>
#include <cerrno>
#include <charconv>
#include <cstring>
#include <fstream>
#include <limits>
#include <sstream>

namespace ssecast::config::detail {
namespace {

constexpr std::uint64_t kUnbounded = std::numeric_limits<std::int64_t>::max();
/// Durations stay far from overflowing nanosecond clocks (about 31 years).
constexpr std::uint64_t kMaxSeconds = 1'000'000'000;

std::string lower(std::string_view s) {
    std::string out(s);
    std::transform(out.begin(), out.end(), out.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    return out;
}

/// `s` in double quotes, with quotes, backslashes and control characters escaped so a
/// message stays on one line.
std::string quoted(std::string_view s) {
    std::string out = "\"";
    for (const char c : s) {
        if (c == '"' || c == '\\') {
            out += '\\';
            out += c;
        } else if (static_cast<unsigned char>(c) < 0x20) {
            constexpr char kHex[] = "0123456789abcdef";
            out += "\\x";
            out += kHex[(c >> 4) & 0xf];
            out += kHex[c & 0xf];
        } else {
            out += c;
        }
    }
    return out + "\"";
}

/// A shard's index travels in logs, the monitor and composite event ids (at most
/// sse::ShardPositions::kMaxShards entries); 64 is far past what one cluster needs.
constexpr std::size_t kMaxShards = 64;

std::vector<std::string> split_whitespace(std::string_view text) {
    std::vector<std::string> out;
    std::istringstream in{std::string(text)};
    for (std::string item; in >> item;) {
        out.push_back(std::move(item));
    }
    return out;
}

[[noreturn]] void fail(std::string_view expected, const std::string& got) {
    throw ValueError("expected " + std::string(expected) + ", got " + got);
}

/// A path that must name a readable file ("" = unset).
std::string readable_file(const RawValue& v) {
    auto path = v.string();
    if (!path.empty() && !std::ifstream(path)) {
        fail("a readable file", quoted(path) + " (" + std::strerror(errno) + ")");
    }
    return path;
}

/// A string that may hold a secret: a value of another type is refused without showing it
/// (RawValue::shown() would print an array of strings, password included).
std::string secret_string(const RawValue& v) {
    try {
        return v.string();
    } catch (const ValueError&) {
        fail("a string", "a value of another type (not shown: it may hold a password)");
    }
}

/// Why an integer was refused: not an integer at all, below `min`, or above `max`.
enum class IntProblem { not_integer, too_small, too_large };

std::string integer_expectation(std::uint64_t min, std::uint64_t max, IntProblem problem) {
    const bool bounded = max != kUnbounded;
    if (min <= 1 && (problem == IntProblem::too_small || !bounded)) {
        return min == 0 ? "a non-negative integer" : "a positive integer";
    }
    if (!bounded) {
        return "an integer >= " + std::to_string(min);
    }
    return "an integer in [" + std::to_string(min) + ", " + std::to_string(max) + "]";
}

std::chrono::seconds seconds(const RawValue& v, std::uint64_t min) {
    return std::chrono::seconds(static_cast<std::int64_t>(v.integer(min, kMaxSeconds)));
}

std::chrono::milliseconds milliseconds(const RawValue& v, std::uint64_t min, std::uint64_t max) {
    return std::chrono::milliseconds(static_cast<std::int64_t>(v.integer(min, max)));
}

/// jwks_url / connect_url: "" or http[s]://host[:port]/path.
std::string hook_url(const RawValue& v) {
    auto s = v.string();
    if (!s.empty() && !parse_http_url(s)) {
        fail("http[s]://host[:port]/path or \"\"", v.shown());
    }
    return s;
}

std::size_t size(const RawValue& v, std::uint64_t min) {
    return static_cast<std::size_t>(v.integer(min, kUnbounded));
}

/// An Origin header value: "*" or scheme://host[:port], no path (browsers send none,
/// so a trailing '/' would never match).
bool is_valid_origin(std::string_view o) {
    if (o == "*") {
        return true;
    }
    const auto sep = o.find("://");
    if (sep == std::string_view::npos || sep == 0 || sep + 3 == o.size()) {
        return false;
    }
    return o.find_first_of("/?# ", sep + 3) == std::string_view::npos;
}

constexpr std::array<std::string_view, 5> kLogLevels = {"trace", "debug", "info", "warn", "error"};
constexpr std::array<std::string_view, 2> kLogFormats = {"text", "json"};
constexpr std::array<std::string_view, 2> kEndpoints = {"sse", "publish"};
constexpr std::array<std::string_view, 3> kIdentifiers = {"user_or_ip", "ip", "user"};

// clang-format off
constexpr KeySpec kKeys[] = {
    {"http", "listen", [](Config& c, const RawValue& v) {
        auto s = v.string();
        if (!parse_listen(s)) {
            fail("host:port (127.0.0.1:8080, [::1]:8080 or :8080)", v.shown());
        }
        c.http.listen = std::move(s);
    }},
    {"http", "cors_origins", [](Config& c, const RawValue& v) {
        auto list = v.string_list();
        for (const auto& o : list) {
            if (!is_valid_origin(o)) {
                fail("\"*\" or an origin like https://app.example.com (no path)", quoted(o));
            }
        }
        c.http.cors_origins = std::move(list);
    }},
    {"http", "trusted_proxies", [](Config& c, const RawValue& v) {
        auto list = v.string_list();
        for (const auto& p : list) {
            if (!is_valid_cidr(p)) {
                fail("an IP address or CIDR (10.0.0.0/8, ::1)", quoted(p));
            }
        }
        c.http.trusted_proxies = std::move(list);
    }},
    {"http", "threads", [](Config& c, const RawValue& v) {
        c.http.threads = static_cast<unsigned>(v.integer(0, 1024));
    }},
    {"http", "max_header_bytes", [](Config& c, const RawValue& v) {
        c.http.max_header_bytes = static_cast<std::size_t>(v.integer(1024, 1 << 30));
    }},
    {"http", "header_timeout_seconds", [](Config& c, const RawValue& v) {
        c.http.header_timeout = seconds(v, 1);
    }},
    {"http", "admin_dir", [](Config& c, const RawValue& v) { c.http.admin_dir = v.string(); }},

    {"auth", "jwt_secret", [](Config& c, const RawValue& v) { c.auth.jwt_secret = v.string(); }},
    {"auth", "allow_anonymous", [](Config& c, const RawValue& v) {
        c.auth.allow_anonymous = v.boolean();
    }},
    {"auth", "publish_keys", [](Config& c, const RawValue& v) {
        auto list = v.string_list();
        if (std::find(list.begin(), list.end(), "") != list.end()) {
            fail("non-empty strings", v.shown());
        }
        c.auth.publish_keys = std::move(list);
    }},
    {"auth", "admin_token", [](Config& c, const RawValue& v) { c.auth.admin_token = v.string(); }},
    {"auth", "jwks_file", [](Config& c, const RawValue& v) { c.auth.jwks_file = v.string(); }},
    {"auth", "jwks_url", [](Config& c, const RawValue& v) {
        c.auth.jwks_url = hook_url(v);
    }},
    {"auth", "jwks_min_refresh_seconds", [](Config& c, const RawValue& v) {
        c.auth.jwks_min_refresh = seconds(v, 1);
    }},
    {"auth", "jwks_timeout_ms", [](Config& c, const RawValue& v) {
        c.auth.jwks_timeout = milliseconds(v, 10, 60'000);
    }},
    {"auth", "jwt_issuer", [](Config& c, const RawValue& v) { c.auth.jwt_issuer = v.string(); }},
    {"auth", "jwt_audience", [](Config& c, const RawValue& v) {
        c.auth.jwt_audience = v.string();
    }},
    {"auth", "tls_ca_file", [](Config& c, const RawValue& v) { c.auth.tls_ca_file = v.string(); }},
    {"auth", "connect_url", [](Config& c, const RawValue& v) {
        c.auth.connect_url = hook_url(v);
    }},
    {"auth", "connect_cache_seconds", [](Config& c, const RawValue& v) {
        c.auth.connect_cache = seconds(v, 0);
    }},
    {"auth", "connect_timeout_ms", [](Config& c, const RawValue& v) {
        c.auth.connect_timeout = milliseconds(v, 10, 60'000);
    }},

    {"sse", "heartbeat_seconds", [](Config& c, const RawValue& v) {
        c.sse.heartbeat = seconds(v, 1);
    }},
    {"sse", "retry_ms", [](Config& c, const RawValue& v) {
        const auto ms = v.integer(1, kMaxSeconds);
        c.sse.retry = std::chrono::milliseconds(static_cast<std::int64_t>(ms));
    }},
    {"sse", "max_topics", [](Config& c, const RawValue& v) { c.sse.max_topics = size(v, 1); }},

    {"history", "max_events", [](Config& c, const RawValue& v) {
        c.history.max_events = size(v, 1);
    }},
    {"history", "max_age_seconds", [](Config& c, const RawValue& v) {
        c.history.max_age = seconds(v, 1);
    }},
    {"history", "max_total_events", [](Config& c, const RawValue& v) {
        c.history.max_total_events = size(v, 1);
    }},

    {"limits", "max_connections", [](Config& c, const RawValue& v) {
        c.limits.max_connections = size(v, 1);
    }},
    {"limits", "max_connections_per_user", [](Config& c, const RawValue& v) {
        c.limits.max_connections_per_user = size(v, 0);
    }},
    {"limits", "max_event_bytes", [](Config& c, const RawValue& v) {
        c.limits.max_event_bytes = size(v, 1);
    }},
    {"limits", "max_body_bytes", [](Config& c, const RawValue& v) {
        c.limits.max_body_bytes = size(v, 1);
    }},
    {"limits", "max_queue_bytes", [](Config& c, const RawValue& v) {
        c.limits.max_queue_bytes = size(v, 1);
    }},

    {"redis", "url", [](Config& c, const RawValue& v) {
        auto s = secret_string(v);
        if (!s.empty() && !parse_redis_url(s)) {
            fail("redis[s]://[[user]:password@]host[:port][/db], "
                 "redis+sentinel://[[user]:password@]host[:port][,host[:port]...]/MASTER[/db] "
                 "or \"\" (percent-encode @ : / % ? # in the user and password)",
                 quoted(redact_redis_url(s)));
        }
        c.redis.url = std::move(s);
    }},
    {"redis", "shards", [](Config& c, const RawValue& v) {
        // An env value is split on whitespace, not commas: a Sentinel URL lists its hosts
        // with commas.
        auto list = v.is_text() ? split_whitespace(v.string()) : v.string_list();
        for (const auto& url : list) {
            if (!parse_redis_url(url)) {
                fail("redis[s]:// or redis+sentinel:// URLs (an array in TOML, separated by "
                     "spaces in SSECAST_REDIS_SHARDS)",
                     quoted(redact_redis_url(url)));
            }
        }
        if (list.size() > kMaxShards) {
            fail("at most " + std::to_string(kMaxShards) + " shards",
                 std::to_string(list.size()));
        }
        c.redis.shards = std::move(list);
    }},
    {"redis", "password", [](Config& c, const RawValue& v) { c.redis.password = secret_string(v); }},
    {"redis", "sentinel_password", [](Config& c, const RawValue& v) {
        c.redis.sentinel_password = secret_string(v);
    }},
    {"redis", "min_replicas", [](Config& c, const RawValue& v) {
        c.redis.min_replicas = static_cast<unsigned>(v.integer(0, 16));
    }},
    {"redis", "min_replicas_timeout_ms", [](Config& c, const RawValue& v) {
        c.redis.min_replicas_timeout = std::chrono::milliseconds(static_cast<std::int64_t>(v.integer(1, 60000)));
    }},
    {"redis", "password_file", [](Config& c, const RawValue& v) {
        auto path = v.string();
        std::string secret;
        std::string why;
        if (!path.empty() && !read_secret_file(path, secret, why)) {
            fail("a readable file holding the password", quoted(path) + " (" + why + ")");
        }
        c.redis.password_file = std::move(path);
    }},
    {"redis", "tls_ca_file", [](Config& c, const RawValue& v) {
        c.redis.tls_ca_file = readable_file(v);
    }},
    {"redis", "tls_cert_file", [](Config& c, const RawValue& v) {
        c.redis.tls_cert_file = readable_file(v);
    }},
    {"redis", "tls_key_file", [](Config& c, const RawValue& v) {
        c.redis.tls_key_file = readable_file(v);
    }},
    {"redis", "tls_server_name", [](Config& c, const RawValue& v) {
        c.redis.tls_server_name = v.string();
    }},
    {"redis", "tls_verify", [](Config& c, const RawValue& v) { c.redis.tls_verify = v.boolean(); }},
    {"redis", "connect_timeout_ms", [](Config& c, const RawValue& v) {
        c.redis.connect_timeout = std::chrono::milliseconds(static_cast<std::int64_t>(v.integer(100, 60000)));
    }},
    {"redis", "command_timeout_ms", [](Config& c, const RawValue& v) {
        c.redis.command_timeout = std::chrono::milliseconds(static_cast<std::int64_t>(v.integer(100, 60000)));
    }},
    {"redis", "prefix", [](Config& c, const RawValue& v) { c.redis.prefix = v.string(); }},
    {"redis", "instance_id", [](Config& c, const RawValue& v) {
        auto s = v.string();
        if (s.find_first_of(" \t\r\n") != std::string::npos) {
            fail("an id without whitespace", v.shown());
        }
        c.redis.instance_id = std::move(s);
    }},
    {"redis", "heartbeat_seconds", [](Config& c, const RawValue& v) {
        c.redis.heartbeat = seconds(v, 1);
    }},
    {"redis", "instance_ttl_seconds", [](Config& c, const RawValue& v) {
        c.redis.instance_ttl = seconds(v, 1);
    }},

    {"shutdown", "grace_seconds", [](Config& c, const RawValue& v) {
        c.shutdown.grace = seconds(v, 0);
    }},

    {"log", "level", [](Config& c, const RawValue& v) {
        c.log.level = std::string(kLogLevels[v.choice(kLogLevels)]);
    }},
    {"log", "format", [](Config& c, const RawValue& v) {
        c.log.format = std::string(kLogFormats[v.choice(kLogFormats)]);
    }},
};

constexpr RuleKeySpec kRuleKeys[] = {
    {"endpoint", [](RateLimitRule& r, const RawValue& v) {
        r.endpoint = static_cast<RateLimitEndpoint>(v.choice(kEndpoints));
    }},
    {"identifier", [](RateLimitRule& r, const RawValue& v) {
        r.identifier = static_cast<RateLimitIdentifier>(v.choice(kIdentifiers));
    }},
    {"limit", [](RateLimitRule& r, const RawValue& v) {
        constexpr auto kMax = std::numeric_limits<std::uint32_t>::max();
        r.limit = static_cast<std::uint32_t>(v.integer(1, kMax));
    }},
    {"window", [](RateLimitRule& r, const RawValue& v) { r.window = seconds(v, 1); }},
};
// clang-format on

} // namespace

std::string RawValue::string() const {
    if (!node_) {
        return std::string(text_);
    }
    if (const auto* s = node_->as_string()) {
        return s->get();
    }
    fail("a string", shown());
}

bool RawValue::boolean() const {
    if (node_) {
        if (const auto* b = node_->as_boolean()) {
            return b->get();
        }
        fail("true or false", shown());
    }
    const std::string t = lower(trim_ows(text_));
    if (t == "true" || t == "1") {
        return true;
    }
    if (t == "false" || t == "0") {
        return false;
    }
    fail("true, false, 1 or 0", shown());
}

std::uint64_t RawValue::integer(std::uint64_t min, std::uint64_t max) const {
    std::int64_t v = 0;
    if (node_) {
        const auto* i = node_->as_integer();
        if (!i) {
            fail(integer_expectation(min, max, IntProblem::not_integer), shown());
        }
        v = i->get();
    } else {
        const std::string_view t = trim_ows(text_);
        const auto [end, ec] = std::from_chars(t.data(), t.data() + t.size(), v);
        if (t.empty() || ec != std::errc() || end != t.data() + t.size()) {
            fail(integer_expectation(min, max, IntProblem::not_integer), shown());
        }
    }
    if (v < 0 || static_cast<std::uint64_t>(v) < min) {
        fail(integer_expectation(min, max, IntProblem::too_small), shown());
    }
    if (static_cast<std::uint64_t>(v) > max) {
        fail(integer_expectation(min, max, IntProblem::too_large), shown());
    }
    return static_cast<std::uint64_t>(v);
}

std::vector<std::string> RawValue::string_list() const {
    std::vector<std::string> out;
    if (node_) {
        const auto* arr = node_->as_array();
        if (!arr) {
            fail("an array of strings", shown());
        }
        for (const auto& item : *arr) {
            const auto* s = item.as_string();
            if (!s) {
                fail("an array of strings", shown());
            }
            out.push_back(s->get());
        }
        return out;
    }
    std::string_view rest = text_;
    while (!rest.empty()) {
        const auto comma = rest.find(',');
        const std::string_view item = trim_ows(rest.substr(0, comma));
        if (!item.empty()) {
            out.emplace_back(item);
        }
        rest = comma == std::string_view::npos ? std::string_view() : rest.substr(comma + 1);
    }
    return out;
}

std::size_t RawValue::choice(std::span<const std::string_view> choices) const {
    const std::string s = string();
    const auto it = std::find(choices.begin(), choices.end(), s);
    if (it != choices.end()) {
        return static_cast<std::size_t>(it - choices.begin());
    }
    std::string expected = "one of";
    for (const auto c : choices) {
        expected += (c == choices.front() ? " " : ", ") + quoted(c);
    }
    fail(expected, shown());
}

std::string RawValue::shown() const {
    if (!node_) {
        return quoted(text_);
    }
    // Strings in double quotes (toml++ would print 'literal' form), arrays item by item.
    if (const auto* s = node_->as_string()) {
        return quoted(s->get());
    }
    if (const auto* arr = node_->as_array()) {
        std::string out = "[";
        for (const auto& item : *arr) {
            out += (out.size() > 1 ? ", " : "") + RawValue(item).shown();
        }
        return out + "]";
    }
    std::ostringstream os;
    node_->visit([&os](const auto& n) { os << n; });
    return os.str();
}

std::span<const KeySpec> key_table() {
    return kKeys;
}

const KeySpec* find_key(std::string_view section, std::string_view name) {
    for (const auto& k : kKeys) {
        if (k.section == section && k.name == name) {
            return &k;
        }
    }
    return nullptr;
}

bool is_section(std::string_view section) {
    return std::any_of(std::begin(kKeys), std::end(kKeys),
                       [&](const KeySpec& k) { return k.section == section; });
}

std::string env_name(const KeySpec& key) {
    std::string out = "SSECAST_" + std::string(key.section) + "_" + std::string(key.name);
    std::transform(out.begin(), out.end(), out.begin(),
                   [](unsigned char c) { return static_cast<char>(std::toupper(c)); });
    return out;
}

std::span<const RuleKeySpec> rule_key_table() {
    return kRuleKeys;
}

std::vector<RateLimitRule> parse_rate_limit_list(std::string_view text) {
    constexpr std::string_view kForm = "endpoint:identifier:limit/window[,...]";
    std::vector<RateLimitRule> rules;
    std::string_view rest = text;
    while (!rest.empty()) {
        const auto comma = rest.find(',');
        const std::string_view item = trim_ows(rest.substr(0, comma));
        rest = comma == std::string_view::npos ? std::string_view() : rest.substr(comma + 1);
        if (item.empty()) {
            continue;
        }
        const auto c1 = item.find(':');
        const auto c2 = item.find(':', c1 == std::string_view::npos ? c1 : c1 + 1);
        const auto sl = item.find('/', c2 == std::string_view::npos ? c2 : c2 + 1);
        if (c1 == std::string_view::npos || c2 == std::string_view::npos ||
            sl == std::string_view::npos) {
            fail(kForm, quoted(item));
        }
        RateLimitRule rule;
        kRuleKeys[0].apply(rule, RawValue(item.substr(0, c1)));
        kRuleKeys[1].apply(rule, RawValue(item.substr(c1 + 1, c2 - c1 - 1)));
        kRuleKeys[2].apply(rule, RawValue(item.substr(c2 + 1, sl - c2 - 1)));
        kRuleKeys[3].apply(rule, RawValue(item.substr(sl + 1)));
        rules.push_back(rule);
    }
    return rules;
}

} // namespace ssecast::config::detail
