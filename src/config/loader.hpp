// SPDX-License-Identifier: MIT
// Builds the Config of one process: defaults, then the TOML file, then SSECAST_* env
// variables, then command-line flags (SPEC §Configuration).
#pragma once

#include "config/config.hpp"

#include <map>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

namespace ssecast::config {

/// A start-up configuration error. what() names where the bad input came from (file and
/// line, env variable or flag), the key and the offending value, e.g.
/// "ssecast.toml:7: limits.max_queue_bytes: expected a positive integer, got -5".
class ConfigError : public std::runtime_error {
  public:
    using std::runtime_error::runtime_error;
};

/// The command-line flags that override configuration (highest precedence).
struct Overrides {
    std::optional<std::string> config_path; ///< --config; else env SSECAST_CONFIG; else no file
    std::optional<std::string> listen;      ///< --listen → http.listen
    std::optional<std::string> redis;       ///< --redis → redis.url
};

/// Loads the configuration: defaults → TOML file → env `SSECAST_<SECTION>_<KEY>` → flags.
/// Env values are text: lists are comma-separated ("a,b"), booleans true/false/1/0, and
/// SSECAST_RATE_LIMIT="sse:user_or_ip:5/60,publish:ip:100/60" replaces every
/// [[rate_limit]] rule. Every key is validated where it is read; cross-key rules
/// (redis.instance_ttl_seconds > redis.heartbeat_seconds, max_event_bytes ≤
/// max_body_bytes) are checked on the final result.
/// Throws ConfigError on an unreadable file, a TOML syntax error (file:line:column), an
/// unknown section, key or SSECAST_* variable, or a value of the wrong type or range.
/// Pure apart from reading the file; call it once from main.
Config load_config(const Overrides& flags, const std::map<std::string, std::string>& env);

/// Validates exactly what load_config would load, without stopping at the first problem:
/// returns every error (each message as load_config's ConfigError would word it, so a file
/// error names file:line and key), in file order, then env, then flags; empty = valid.
/// A TOML syntax error ends the file's checks (the parser cannot go on past it). Never
/// throws ConfigError. Used by `ssecast config check`.
std::vector<std::string> check_config(const Overrides& flags,
                                      const std::map<std::string, std::string>& env);

/// The config file that load_config reads: --config, else SSECAST_CONFIG, else none.
std::optional<std::string> config_file(const Overrides& flags,
                                       const std::map<std::string, std::string>& env);

/// The SSECAST_* entries of a `NAME=value` environment block (e.g. main's envp or
/// `environ`); other variables are ignored. A null `envp` gives an empty map.
std::map<std::string, std::string> environment_from(char** envp);

} // namespace ssecast::config
