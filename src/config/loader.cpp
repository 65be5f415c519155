// SPDX-License-Identifier: MIT
// Layers the configuration sources (defaults → file → env → flags) over the key table in
// keys.cpp, and turns every failure into a ConfigError naming source, key and value.
#include "config/loader.hpp"

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

/// "path:line" of a TOML node.
std::string where(const std::string& path, const toml::node& node) {
    return path + ":" + std::to_string(node.source().begin.line);
}

toml::table read_toml(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) {
        throw ConfigError(path + ": cannot read config file: " + std::strerror(errno));
    }
    std::ostringstream text;
    text << in.rdbuf();
    if (in.bad()) {
        throw ConfigError(path + ": cannot read config file: " + std::strerror(errno));
    }
    try {
        return toml::parse(text.str(), path);
    } catch (const toml::parse_error& e) {
        const auto& at = e.source().begin;
        throw ConfigError(path + ":" + std::to_string(at.line) + ":" + std::to_string(at.column) +
                          ": TOML syntax error: " + std::string(e.description()));
    }
}

void apply_rate_limits(Config& cfg, const std::string& path, const toml::node& node) {
    const auto* arr = node.as_array();
    if (!arr || !arr->is_array_of_tables()) {
        throw ConfigError(where(path, node) +
                          ": rate_limit: expected an array of tables ([[rate_limit]])");
    }
    cfg.rate_limits.clear();
    for (std::size_t i = 0; i < arr->size(); ++i) {
        const auto& tbl = *(*arr)[i].as_table();
        const std::string name = "rate_limit[" + std::to_string(i) + "]";
        RateLimitRule rule;
        for (const auto& entry : tbl) {
            // Plain references (not structured bindings) so lambdas can capture them on
            // every compiler (clang 14 cannot capture a binding; the fuzz build uses it).
            const auto& key = entry.first;
            const auto& value = entry.second;
            const auto specs = detail::rule_key_table();
            const auto spec = std::find_if(specs.begin(), specs.end(),
                                           [&](const auto& s) { return s.name == key.str(); });
            if (spec == specs.end()) {
                throw ConfigError(where(path, value) + ": unknown key " + name + "." +
                                  std::string(key.str()));
            }
            try {
                spec->apply(rule, RawValue(value));
            } catch (const ValueError& e) {
                throw ConfigError(where(path, value) + ": " + name + "." + std::string(key.str()) +
                                  ": " + e.what());
            }
        }
        for (const char* required : {"endpoint", "limit"}) {
            if (!tbl.contains(required)) {
                throw ConfigError(where(path, tbl) + ": " + name + ": missing key " + required);
            }
        }
        cfg.rate_limits.push_back(rule);
    }
}

void apply_file(Config& cfg, const std::string& path) {
    const toml::table root = read_toml(path);
    for (const auto& [section_key, section] : root) {
        const std::string sname(section_key.str());
        if (sname == "rate_limit") {
            apply_rate_limits(cfg, path, section);
            continue;
        }
        if (!detail::is_section(sname)) {
            throw ConfigError(where(path, section) + ": unknown " +
                              (section.is_table() ? "section [" + sname + "]" : "key " + sname));
        }
        const auto* tbl = section.as_table();
        if (!tbl) {
            throw ConfigError(where(path, section) + ": " + sname + ": expected a table [" + sname +
                              "]");
        }
        for (const auto& [key, value] : *tbl) {
            const std::string full = sname + "." + std::string(key.str());
            const auto* spec = detail::find_key(sname, key.str());
            if (!spec) {
                throw ConfigError(where(path, value) + ": unknown key " + full);
            }
            try {
                spec->apply(cfg, RawValue(value));
            } catch (const ValueError& e) {
                throw ConfigError(where(path, value) + ": " + full + ": " + e.what());
            }
        }
    }
}

void apply_text(Config& cfg, const detail::KeySpec& spec, const std::string& source,
                const std::string& text) {
    try {
        spec.apply(cfg, RawValue(std::string_view(text)));
    } catch (const ValueError& e) {
        throw ConfigError(source + ": " + std::string(spec.section) + "." + std::string(spec.name) +
                          ": " + e.what());
    }
}

void apply_env(Config& cfg, const std::map<std::string, std::string>& env) {
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
                throw ConfigError(name + ": rate_limit: " + e.what());
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
            throw ConfigError("unknown environment variable " + name + " (no key " + guess + ")");
        }
        apply_text(cfg, *spec, name, value);
    }
}

void check_consistency(const Config& cfg) {
    if (cfg.redis.instance_ttl <= cfg.redis.heartbeat) {
        throw ConfigError("redis.instance_ttl_seconds: must be greater than "
                          "redis.heartbeat_seconds, got " +
                          std::to_string(cfg.redis.instance_ttl.count()) +
                          " <= " + std::to_string(cfg.redis.heartbeat.count()));
    }
    if (cfg.limits.max_event_bytes > cfg.limits.max_body_bytes) {
        throw ConfigError("limits.max_event_bytes: must not exceed limits.max_body_bytes, got " +
                          std::to_string(cfg.limits.max_event_bytes) + " > " +
                          std::to_string(cfg.limits.max_body_bytes));
    }
}

} // namespace

Config load_config(const Overrides& flags, const std::map<std::string, std::string>& env) {
    Config cfg;
    std::optional<std::string> path = flags.config_path;
    if (!path) {
        if (const auto it = env.find("SSECAST_CONFIG"); it != env.end() && !it->second.empty()) {
            path = it->second;
        }
    }
    if (path) {
        apply_file(cfg, *path);
    }
    apply_env(cfg, env);
    if (flags.listen) {
        apply_text(cfg, *detail::find_key("http", "listen"), "--listen", *flags.listen);
    }
    if (flags.redis) {
        apply_text(cfg, *detail::find_key("redis", "url"), "--redis", *flags.redis);
    }
    check_consistency(cfg);
    return cfg;
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
