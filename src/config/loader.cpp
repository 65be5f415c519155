// SPDX-License-Identifier: MIT
// Layers the configuration sources (defaults → file → env → flags) over the key table in
// keys.cpp, and turns every failure into a ConfigError naming source, key and value.
#include "config/loader.hpp"

#include "config/endpoints.hpp"
#include "config/keys.hpp"

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

namespace ssecast::config {
namespace {

using detail::RawValue;
using detail::ValueError;

/// Where problems go: thrown at the first one (load_config) or all collected (check_config).
class Problems {
  public:
    explicit Problems(std::vector<std::string>* all) : all_(all) {}
    /// Throws ConfigError(msg) when not collecting; else records msg and returns.
    void report(std::string msg) {
        if (!all_) {
            throw ConfigError(msg);
        }
        all_->push_back(std::move(msg));
    }

  private:
    std::vector<std::string>* all_;
};

/// "path:line" of a TOML node.
std::string where(const std::string& path, const toml::node& node) {
    return path + ":" + std::to_string(node.source().begin.line);
}

/// The entries of `tbl` in the order they appear in the file (toml::table is sorted by
/// key), so problems are reported top to bottom.
std::vector<std::pair<std::string_view, const toml::node*>> in_file_order(const toml::table& tbl) {
    std::vector<std::pair<std::string_view, const toml::node*>> out;
    for (const auto& [key, node] : tbl) {
        out.emplace_back(key.str(), &node);
    }
    std::stable_sort(out.begin(), out.end(), [](const auto& a, const auto& b) {
        const auto& pa = a.second->source().begin;
        const auto& pb = b.second->source().begin;
        return pa.line != pb.line ? pa.line < pb.line : pa.column < pb.column;
    });
    return out;
}

/// The parsed file; a read or syntax error is reported and gives nullopt (a TOML parser
/// stops at the first syntax error, so there is at most one of those per file).
std::optional<toml::table> read_toml(const std::string& path, Problems& problems) {
    std::ifstream in(path, std::ios::binary);
    if (!in) {
        problems.report(path + ": cannot read config file: " + std::strerror(errno));
        return std::nullopt;
    }
    std::ostringstream text;
    text << in.rdbuf();
    if (in.bad()) {
        problems.report(path + ": cannot read config file: " + std::strerror(errno));
        return std::nullopt;
    }
    try {
        return toml::parse(text.str(), path);
    } catch (const toml::parse_error& e) {
        const auto& at = e.source().begin;
        problems.report(path + ":" + std::to_string(at.line) + ":" + std::to_string(at.column) +
                        ": TOML syntax error: " + std::string(e.description()));
        return std::nullopt;
    }
}

void apply_rate_limits(Config& cfg, const std::string& path, const toml::node& node,
                       Problems& problems) {
    const auto* arr = node.as_array();
    if (!arr || !arr->is_array_of_tables()) {
        problems.report(where(path, node) +
                        ": rate_limit: expected an array of tables ([[rate_limit]])");
        return;
    }
    cfg.rate_limits.clear();
    for (std::size_t i = 0; i < arr->size(); ++i) {
        const auto& tbl = *(*arr)[i].as_table();
        const std::string name = "rate_limit[" + std::to_string(i) + "]";
        RateLimitRule rule;
        for (const auto& entry : in_file_order(tbl)) {
            // Plain references (not structured bindings) so lambdas can capture them on
            // every compiler (clang 14 cannot capture a binding; the fuzz build uses it).
            const std::string_view key = entry.first;
            const toml::node& value = *entry.second;
            const auto specs = detail::rule_key_table();
            const auto spec = std::find_if(specs.begin(), specs.end(),
                                           [&](const auto& s) { return s.name == key; });
            if (spec == specs.end()) {
                problems.report(where(path, value) + ": unknown key " + name + "." +
                                std::string(key));
                continue;
            }
            try {
                spec->apply(rule, RawValue(value));
            } catch (const ValueError& e) {
                problems.report(where(path, value) + ": " + name + "." + std::string(key) + ": " +
                                e.what());
            }
        }
        for (const char* required : {"endpoint", "limit"}) {
            if (!tbl.contains(required)) {
                problems.report(where(path, tbl) + ": " + name + ": missing key " + required);
            }
        }
        cfg.rate_limits.push_back(rule);
    }
}

void apply_file(Config& cfg, const std::string& path, Problems& problems) {
    const auto root = read_toml(path, problems);
    if (!root) {
        return;
    }
    for (const auto& [section_key, section_node] : in_file_order(*root)) {
        const toml::node& section = *section_node;
        const std::string sname(section_key);
        if (sname == "rate_limit") {
            apply_rate_limits(cfg, path, section, problems);
            continue;
        }
        if (!detail::is_section(sname)) {
            problems.report(where(path, section) + ": unknown " +
                            (section.is_table() ? "section [" + sname + "]" : "key " + sname));
            continue;
        }
        const auto* tbl = section.as_table();
        if (!tbl) {
            problems.report(where(path, section) + ": " + sname + ": expected a table [" + sname +
                            "]");
            continue;
        }
        for (const auto& [key, value_node] : in_file_order(*tbl)) {
            const toml::node& value = *value_node;
            const std::string full = sname + "." + std::string(key);
            const auto* spec = detail::find_key(sname, key);
            if (!spec) {
                problems.report(where(path, value) + ": unknown key " + full);
                continue;
            }
            try {
                spec->apply(cfg, RawValue(value));
            } catch (const ValueError& e) {
                problems.report(where(path, value) + ": " + full + ": " + e.what());
            }
        }
    }
}

void apply_text(Config& cfg, const detail::KeySpec& spec, const std::string& source,
                const std::string& text, Problems& problems) {
    try {
        spec.apply(cfg, RawValue(std::string_view(text)));
    } catch (const ValueError& e) {
        problems.report(source + ": " + std::string(spec.section) + "." + std::string(spec.name) +
                        ": " + e.what());
    }
}

void apply_env(Config& cfg, const std::map<std::string, std::string>& env, Problems& problems) {
    for (const auto& entry : env) {
        const std::string& name = entry.first; // not a binding: captured by lambdas below
        const std::string& value = entry.second;
        if (!name.starts_with("SSECAST_") || name == "SSECAST_CONFIG") {
            continue;
        }
        if (name == "SSECAST_RATE_LIMIT") {
            try {
                cfg.rate_limits = detail::parse_rate_limit_list(value);
            } catch (const ValueError& e) {
                problems.report(name + ": rate_limit: " + e.what());
            }
            continue;
        }
        const auto keys = detail::key_table();
        const auto spec = std::find_if(keys.begin(), keys.end(),
                                       [&](const auto& k) { return detail::env_name(k) == name; });
        if (spec == keys.end()) {
            // Only names inside a config section are ours to judge (a typo there must not
            // be ignored); other SSECAST_* variables (SSECAST_BIN in a test harness…) are not
            // configuration keys at all.
            const bool in_section = std::any_of(keys.begin(), keys.end(), [&](const auto& k) {
                const std::string known = detail::env_name(k);
                const auto section_end = known.find('_', 8);
                return name.compare(0, section_end + 1, known, 0, section_end + 1) == 0;
            });
            if (!in_section) {
                continue;
            }
            // Show the key the operator probably meant: SSECAST_HTTP_LISTN → http.listn.
            std::string guess = name.substr(8);
            for (auto& c : guess) {
                c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
            }
            if (const auto us = guess.find('_'); us != std::string::npos) {
                guess[us] = '.';
            }
            problems.report("unknown environment variable " + name + " (no key " + guess + ")");
            continue;
        }
        apply_text(cfg, *spec, name, value, problems);
    }
}

/// SPEC §Redis in production: the password comes from exactly one place. Two would leave
/// the operator guessing which one a rotation has to change. With redis.shards each URL is
/// checked; redis.password / password_file apply to every shard whose URL has none.
void check_redis_credentials(const Config& cfg, Problems& problems) {
    const auto urls = cfg.redis_urls();
    for (std::size_t i = 0; i < urls.size(); ++i) {
        const auto ep = parse_redis_url(urls[i]);
        if (!ep) {
            continue; // reported where it was read
        }
        const std::string key =
            cfg.redis.shards.empty() ? "redis.url" : "redis.shards[" + std::to_string(i) + "]";
        std::vector<std::string> sources;
        if (!ep->password.empty()) {
            sources.push_back(key);
        }
        if (!cfg.redis.password.empty()) {
            sources.emplace_back("redis.password (SSECAST_REDIS_PASSWORD)");
        }
        if (!cfg.redis.password_file.empty()) {
            sources.emplace_back("redis.password_file");
        }
        if (sources.size() > 1) {
            std::string list;
            for (const auto& s : sources) {
                list += (list.empty() ? "" : " and ") + s;
            }
            problems.report("redis: the password is set by " + list + "; set it in one place only");
        }
        if (sources.empty() && !ep->username.empty()) {
            // The name is not shown: "redis://secret@host" may be a password in the wrong place.
            problems.report(key + ": names a user (user@host) but no password is set: write "
                                  "redis://user:password@host, or set redis.password_file or "
                                  "SSECAST_REDIS_PASSWORD");
        }
    }
}

/// SPEC §Redis in production: TLS settings only make sense with rediss://, and a client
/// certificate needs its key.
void check_redis_tls(const Config& cfg, Problems& problems) {
    const bool tls_keys = !cfg.redis.tls_ca_file.empty() || !cfg.redis.tls_cert_file.empty() ||
                          !cfg.redis.tls_key_file.empty() || !cfg.redis.tls_server_name.empty() ||
                          !cfg.redis.tls_verify;
    bool any_tls = false;
    for (const auto& url : cfg.redis_urls()) {
        const auto ep = parse_redis_url(url);
        any_tls = any_tls || (ep && ep->tls);
    }
    if (tls_keys && !any_tls) {
        problems.report(
            cfg.redis.shards.empty()
                ? "redis.tls_*: set, but redis.url is not rediss:// (TLS would not be used)"
                : "redis.tls_*: set, but no URL in redis.shards is rediss:// (TLS would "
                  "not be used)");
    }
    if (cfg.redis.tls_cert_file.empty() != cfg.redis.tls_key_file.empty()) {
        problems.report("redis.tls_cert_file and redis.tls_key_file: set both or neither");
    }
}

void check_consistency(const Config& cfg, Problems& problems) {
    if (!cfg.redis.url.empty() && !cfg.redis.shards.empty()) {
        problems.report("redis.url and redis.shards: set one of them (redis.shards lists every "
                        "Redis node, the first one included)");
    }
    check_redis_credentials(cfg, problems);
    check_redis_tls(cfg, problems);
    if (cfg.redis.instance_ttl <= cfg.redis.heartbeat) {
        problems.report("redis.instance_ttl_seconds: must be greater than "
                        "redis.heartbeat_seconds, got " +
                        std::to_string(cfg.redis.instance_ttl.count()) +
                        " <= " + std::to_string(cfg.redis.heartbeat.count()));
    }
    if (cfg.limits.max_event_bytes > cfg.limits.max_body_bytes) {
        problems.report("limits.max_event_bytes: must not exceed limits.max_body_bytes, got " +
                        std::to_string(cfg.limits.max_event_bytes) + " > " +
                        std::to_string(cfg.limits.max_body_bytes));
    }
}

/// The layering shared by load_config and check_config.
Config load_with(const Overrides& flags, const std::map<std::string, std::string>& env,
                 Problems& problems) {
    Config cfg;
    const auto path = config_file(flags, env);
    if (path) {
        apply_file(cfg, *path, problems);
    }
    apply_env(cfg, env, problems);
    if (flags.listen) {
        apply_text(cfg, *detail::find_key("http", "listen"), "--listen", *flags.listen, problems);
    }
    if (flags.redis) {
        apply_text(cfg, *detail::find_key("redis", "url"), "--redis", *flags.redis, problems);
    }
    check_consistency(cfg, problems);
    return cfg;
}

} // namespace

std::optional<std::string> config_file(const Overrides& flags,
                                       const std::map<std::string, std::string>& env) {
    if (flags.config_path) {
        return flags.config_path;
    }
    if (const auto it = env.find("SSECAST_CONFIG"); it != env.end() && !it->second.empty()) {
        return it->second;
    }
    return std::nullopt;
}

Config load_config(const Overrides& flags, const std::map<std::string, std::string>& env) {
    Problems first_only(nullptr);
    return load_with(flags, env, first_only);
}

std::vector<std::string> check_config(const Overrides& flags,
                                      const std::map<std::string, std::string>& env) {
    std::vector<std::string> all;
    Problems collect(&all);
    load_with(flags, env, collect);
    return all;
}

std::map<std::string, std::string> environment_from(char** envp) {
    std::map<std::string, std::string> out;
    for (char** p = envp; p && *p; ++p) {
        const std::string_view entry(*p);
        const auto eq = entry.find('=');
        if (eq == std::string_view::npos || !entry.starts_with("SSECAST_")) {
            continue;
        }
        out.emplace(std::string(entry.substr(0, eq)), std::string(entry.substr(eq + 1)));
    }
    return out;
}

} // namespace ssecast::config
