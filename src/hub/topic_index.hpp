// SPDX-License-Identifier: MIT
// Finds the subscribers of a topic: exact names in a hash map, prefixes by walking the
// topic's '/' boundaries, so a lookup costs O(depth), not O(patterns).
#pragma once

#include "hub/topic.hpp"

#include <functional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace ssecast::hub {

class Subscriber;

/// Single-threaded index from patterns to subscribers; the owning Hub serialises access.
class TopicIndex {
  public:
    void add(const TopicPattern& pattern, Subscriber* sub);
    /// Removes one registration of `sub` under `pattern`; no-op if absent.
    void remove(const TopicPattern& pattern, Subscriber* sub);

    /// Calls `fn(Subscriber*)` for every registration matching `topic`. A subscriber with
    /// several matching patterns is visited once per pattern; the Hub dedupes.
    template <class Fn> void for_each_match(std::string_view topic, Fn&& fn) const {
        if (const auto it = exact_.find(topic); it != exact_.end()) {
            for (Subscriber* s : it->second) {
                fn(s);
            }
        }
        if (prefix_.empty()) {
            return;
        }
        // "*" is stored under "", "a/*" under "a/": try every prefix ending in '/'.
        visit_prefix(std::string_view(), fn);
        for (std::size_t i = 0; i + 1 < topic.size(); ++i) {
            if (topic[i] == '/') {
                visit_prefix(topic.substr(0, i + 1), fn);
            }
        }
    }

    bool empty() const noexcept { return exact_.empty() && prefix_.empty(); }

  private:
    template <class Fn> void visit_prefix(std::string_view key, Fn& fn) const {
        if (const auto it = prefix_.find(key); it != prefix_.end()) {
            for (Subscriber* s : it->second) {
                fn(s);
            }
        }
    }

    /// Lets find() take a string_view: no std::string built per event and prefix level.
    struct Hash {
        using is_transparent = void;
        std::size_t operator()(std::string_view s) const noexcept {
            return std::hash<std::string_view>{}(s);
        }
    };
    using Map = std::unordered_map<std::string, std::vector<Subscriber*>, Hash, std::equal_to<>>;
    Map exact_;
    Map prefix_;
};

} // namespace ssecast::hub
