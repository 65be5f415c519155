// SPDX-License-Identifier: MIT
// Internal to src/config: the table of configuration keys (one entry per key, with its
// parser and validator) and the raw-value reader shared by the TOML and env sources.
#pragma once

#include "config/config.hpp"

#include <toml++/toml.h>

#include <cstdint>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace ssecast::config::detail {

/// A bad value; what() is "expected …, got …". The loader prefixes source and key.
class ValueError : public std::runtime_error {
  public:
    using std::runtime_error::runtime_error;
};

/// One value as the operator wrote it: a TOML node, or the text of an env var or flag.
/// Accessors convert it or throw ValueError naming the expectation and the value.
class RawValue {
  public:
    explicit RawValue(const toml::node& node) : node_(&node) {}
    explicit RawValue(std::string_view text) : text_(text) {}

    std::string string() const;
    /// TOML boolean; text true/false/1/0 (case-insensitive).
    bool boolean() const;
    /// An integer in [min, max].
    std::uint64_t integer(std::uint64_t min, std::uint64_t max) const;
    /// TOML array of strings; text split on ',' with blanks trimmed and empties dropped.
    std::vector<std::string> string_list() const;
    /// One of `choices`, returned as its index.
    std::size_t choice(std::span<const std::string_view> choices) const;
    /// The value as written, for messages: -5, "abc", [1, 2].
    std::string shown() const;
    /// True for an env variable or a flag (text), false for a TOML value.
    bool is_text() const noexcept { return node_ == nullptr; }

  private:
    const toml::node* node_ = nullptr;
    std::string_view text_;
};

/// One configuration key: `[section] name`, env SSECAST_<SECTION>_<NAME>.
struct KeySpec {
    std::string_view section;
    std::string_view name;
    /// Parses, validates and stores the value; throws ValueError.
    void (*apply)(Config&, const RawValue&);
};

/// Every scalar/list key, in documentation order.
std::span<const KeySpec> key_table();
/// The key `section.name`, or nullptr.
const KeySpec* find_key(std::string_view section, std::string_view name);
/// True when some key lives in [section].
bool is_section(std::string_view section);
/// "SSECAST_LIMITS_MAX_QUEUE_BYTES" for limits.max_queue_bytes.
std::string env_name(const KeySpec& key);

/// The fields of one [[rate_limit]] table (endpoint, identifier, limit, window).
struct RuleKeySpec {
    std::string_view name;
    void (*apply)(RateLimitRule&, const RawValue&);
};
std::span<const RuleKeySpec> rule_key_table();

/// Parses SSECAST_RATE_LIMIT: "endpoint:identifier:limit/window[,…]"; throws ValueError.
std::vector<RateLimitRule> parse_rate_limit_list(std::string_view text);

} // namespace ssecast::config::detail
