// SPDX-License-Identifier: MIT
// TopicIndex registration.
#include "hub/topic_index.hpp"

#include <algorithm>

namespace ssecast::hub {

void TopicIndex::add(const TopicPattern& pattern, Subscriber* sub) {
    auto& map = pattern.is_prefix() ? prefix_ : exact_;
    map[pattern.key()].push_back(sub);
}

void TopicIndex::remove(const TopicPattern& pattern, Subscriber* sub) {
    auto& map = pattern.is_prefix() ? prefix_ : exact_;
    const auto it = map.find(pattern.key());
    if (it == map.end()) {
        return;
    }
    auto& subs = it->second;
    if (const auto pos = std::find(subs.begin(), subs.end(), sub); pos != subs.end()) {
        *pos = subs.back(); // order inside one topic does not matter
        subs.pop_back();
    }
    if (subs.empty()) {
        map.erase(it);
    }
}

} // namespace ssecast::hub
