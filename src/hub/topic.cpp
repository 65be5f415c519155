// SPDX-License-Identifier: MIT
// Topic validation and pattern matching.
#include "hub/topic.hpp"

namespace ssecast::hub {

bool is_valid_topic(std::string_view name) noexcept {
    if (name.empty() || name.size() > kMaxTopicLength) {
        return false;
    }
    for (char c : name) {
        const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                        (c >= '0' && c <= '9') || c == '.' || c == '_' || c == ':' || c == '/' ||
                        c == '@' || c == '-';
        if (!ok) {
            return false;
        }
    }
    return true;
}

result<TopicPattern> TopicPattern::parse(std::string_view text) {
    if (text == "*") {
        return TopicPattern(std::string(), true);
    }
    if (text.size() >= 2 && text.ends_with("/*")) {
        const std::string_view base = text.substr(0, text.size() - 2);
        if (!is_valid_topic(base)) {
            return errc::bad_topic;
        }
        return TopicPattern(std::string(text.substr(0, text.size() - 1)), true);
    }
    if (!is_valid_topic(text)) {
        return errc::bad_topic;
    }
    return TopicPattern(std::string(text), false);
}

bool TopicPattern::matches(std::string_view topic) const noexcept {
    if (!prefix_) {
        return topic == key_;
    }
    return topic.size() > key_.size() && topic.starts_with(key_);
}

bool TopicPattern::covers(const TopicPattern& other) const noexcept {
    if (!prefix_) {
        return !other.prefix_ && other.key_ == key_;
    }
    if (!other.prefix_) {
        return matches(other.key_);
    }
    return other.key_.starts_with(key_);
}

std::string TopicPattern::str() const {
    if (!prefix_) {
        return key_;
    }
    return key_ + "*";
}

} // namespace ssecast::hub
