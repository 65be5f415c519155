// SPDX-License-Identifier: MIT
// One topic's retained events, oldest first: a FIFO that can be binary-searched and that
// gives its memory back once empty (a std::deque keeps ~0.5 KiB even when empty, per topic).
#pragma once

#include "hub/event.hpp"

#include <cstddef>
#include <utility>
#include <vector>

namespace ssecast::history {

/// FIFO of shared events with random-access iteration from the oldest. push_back and
/// pop_front are amortised O(1); capacity stays within about twice the size. Not
/// thread-safe (MemoryHistory's mutex guards it).
class EventQueue {
  public:
    using const_iterator = std::vector<hub::EventPtr>::const_iterator;

    bool empty() const noexcept { return head_ == items_.size(); }
    std::size_t size() const noexcept { return items_.size() - head_; }
    /// Oldest / newest event; the queue must not be empty.
    const hub::EventPtr& front() const noexcept { return items_[head_]; }
    const hub::EventPtr& back() const noexcept { return items_.back(); }
    const_iterator begin() const noexcept {
        return items_.begin() + static_cast<std::ptrdiff_t>(head_);
    }
    const_iterator end() const noexcept { return items_.end(); }

    void push_back(hub::EventPtr event) { items_.push_back(std::move(event)); }

    /// Removes the oldest event (the queue must not be empty) and returns it.
    hub::EventPtr pop_front() {
        hub::EventPtr out = std::move(items_[head_]);
        ++head_;
        if (empty()) {
            std::vector<hub::EventPtr>().swap(items_); // an idle topic holds no buffer
            head_ = 0;
        } else if (head_ >= kCompactAfter && head_ * 2 >= items_.size()) {
            // Moving the live half costs at most what was popped since the last compaction.
            items_.erase(items_.begin(), begin());
            head_ = 0;
        }
        return out;
    }

  private:
    static constexpr std::size_t kCompactAfter = 16;
    std::vector<hub::EventPtr> items_; ///< [head_, end) are retained; before head_ are empty
    std::size_t head_ = 0;
};

} // namespace ssecast::history
