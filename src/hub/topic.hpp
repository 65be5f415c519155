// SPDX-License-Identifier: MIT
// Topic names and topic patterns (SPEC §Subscribe): validation and matching only.
#pragma once

#include "common/errc.hpp"

#include <string>
#include <string_view>

namespace ssecast::hub {

/// Longest topic name SPEC allows.
inline constexpr std::size_t kMaxTopicLength = 200;

/// True when `name` is 1..200 chars of [A-Za-z0-9._:/@-] (an exact topic name).
bool is_valid_topic(std::string_view name) noexcept;

/// An exact topic ("orders"), a prefix ("orders/*" matches "orders/1", "orders/a/b", not
/// "orders"), or everything ("*"). Immutable value type; cheap to copy.
class TopicPattern {
  public:
    /// Parses `text`; errc::bad_topic when it is neither a valid topic, `<topic>/*`, nor `*`.
    static result<TopicPattern> parse(std::string_view text);

    /// True when a published event on `topic` is seen by this pattern.
    bool matches(std::string_view topic) const noexcept;
    /// True when every topic `other` matches is also matched by this (permission check:
    /// a claim `orders/*` covers a request for `orders/1` and for `orders/eu/*`).
    bool covers(const TopicPattern& other) const noexcept;

    bool is_prefix() const noexcept { return prefix_; }
    /// The exact topic, or the prefix including its trailing '/' ("" for "*").
    const std::string& key() const noexcept { return key_; }
    /// The text form it was parsed from ("orders/*").
    std::string str() const;

    friend bool operator==(const TopicPattern&, const TopicPattern&) = default;

  private:
    TopicPattern(std::string key, bool prefix) : key_(std::move(key)), prefix_(prefix) {}
    std::string key_;
    bool prefix_ = false;
};

} // namespace ssecast::hub
