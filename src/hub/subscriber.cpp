// SPDX-License-Identifier: MIT
// Subscriber queueing, filtering and the replay→live handoff.
#include "hub/subscriber.hpp"

#include <algorithm>

namespace ssecast::hub {

Subscriber::Subscriber(std::string user_id, std::vector<TopicPattern> patterns,
                       std::size_t max_queue_bytes, std::function<void()> wake)
    : user_id_(std::move(user_id)), patterns_(std::move(patterns)),
      max_queue_bytes_(max_queue_bytes), wake_(std::move(wake)) {}

bool Subscriber::wants(const Event& event) const noexcept {
    if (!event.users.empty() &&
        std::find(event.users.begin(), event.users.end(), user_id_) == event.users.end()) {
        return false;
    }
    if (reads_lower_copy(event)) {
        return false;
    }
    for (const auto& topic : event.topics) {
        for (const auto& pattern : patterns_) {
            if (pattern.matches(topic)) {
                return true;
            }
        }
    }
    return false;
}

bool Subscriber::reads_lower_copy(const Event& event) const noexcept {
    for (const auto& topic : event.covered_below) {
        for (const auto& pattern : patterns_) {
            if (pattern.matches(topic)) {
                return true;
            }
        }
    }
    return false;
}

std::optional<sse::EventId>& Subscriber::floor_of(std::uint16_t shard) {
    if (shard == 0) {
        return floor_;
    }
    if (higher_floors_.size() < shard) {
        higher_floors_.resize(shard);
    }
    return higher_floors_[shard - 1];
}

bool Subscriber::at_or_below_floor(const Event& event) const noexcept {
    const std::optional<sse::EventId>* floor = &floor_;
    if (event.shard != 0) {
        if (higher_floors_.size() < event.shard) {
            return false;
        }
        floor = &higher_floors_[event.shard - 1];
    }
    return *floor && event.id <= **floor;
}

bool Subscriber::enqueue(const EventPtr& event) {
    if (queued_bytes_ + event->frame.size() > max_queue_bytes_) {
        close(errc::slow_consumer);
        return false;
    }
    queued_bytes_ += event->frame.size();
    queue_.push_back(event);
    return true;
}

Subscriber::Offer Subscriber::offer(const EventPtr& event) {
    if (closed_ || ending_ || (expires_at_ && event->published_at >= *expires_at_)) {
        return Offer::filtered;
    }
    if (at_or_below_floor(*event)) {
        return Offer::filtered; // already sent in the replay
    }
    if (in_handoff_) {
        // Bounded apart from the replay queue, so that a long replay does not cut a reader:
        // past the budget the held events are dropped (every one of them is in history,
        // stored before it was delivered) and the replay reads on until it catches up.
        if (held_bytes_ + event->frame.size() > max_queue_bytes_ / 2) {
            held_.clear();
            held_bytes_ = 0;
            ++held_drops_;
            return Offer::filtered;
        }
        held_bytes_ += event->frame.size();
        held_.push_back(event);
        return Offer::queued;
    }
    if (!enqueue(event)) {
        return Offer::overflow;
    }
    return Offer::queued;
}

void Subscriber::begin_handoff() {
    in_handoff_ = true;
}

void Subscriber::push_replay(std::span<const EventPtr> page, sse::EventId next_after,
                             std::uint16_t shard) {
    if (closed_ || ending_) {
        return;
    }
    auto& floor = floor_of(shard);
    for (const auto& event : page) {
        if ((floor && event->id <= *floor) || !wants(*event)) {
            continue;
        }
        if (expires_at_ && event->published_at >= *expires_at_) {
            continue; // published after the token expired (ids and clocks of several
                      // instances need not agree on order, so look at every one)
        }
        queued_bytes_ += event->frame.size();
        queue_.push_back(event);
        floor = event->id;
    }
    if (!floor || next_after > *floor) {
        floor = next_after;
    }
    wake_();
}

void Subscriber::finish_handoff() {
    in_handoff_ = false;
    if (closed_ || ending_) {
        held_.clear();
        return;
    }
    for (const auto& event : held_) {
        if (at_or_below_floor(*event)) {
            continue;
        }
        // Not capped: held_ is bounded by its own budget and the caller finishes only with
        // a drained queue, so queue + held stays within max_queue_bytes (plus one event).
        queued_bytes_ += event->frame.size();
        queue_.push_back(event);
        floor_of(event->shard) = event->id;
    }
    held_.clear();
    held_.shrink_to_fit();
    held_bytes_ = 0;
    wake_();
}

void Subscriber::push_control(EventPtr frame) {
    queued_bytes_ += frame->frame.size();
    if (head_ > 0) {
        queue_[--head_] = std::move(frame);
    } else {
        queue_.insert(queue_.begin(), std::move(frame));
    }
    wake_();
}

void Subscriber::push_heartbeat(const EventPtr& heartbeat) {
    if (closed_ || ending_ || in_handoff_ || head_ != queue_.size()) {
        return; // frames are pending anyway: they do the heartbeat's job
    }
    queued_bytes_ += heartbeat->frame.size();
    queue_.push_back(heartbeat);
    wake_();
}

void Subscriber::consumed(std::size_t count) {
    for (std::size_t i = 0; i < count && head_ < queue_.size(); ++i) {
        queued_bytes_ -= queue_[head_]->frame.size();
        queue_[head_++].reset();
    }
    if (head_ == queue_.size()) {
        queue_.clear(); // keeps capacity: a busy stream reuses it
        head_ = 0;
        if (queue_.capacity() > 256) {
            queue_.shrink_to_fit(); // a burst is over; give the memory back
        }
    } else if (head_ >= 64 && head_ * 2 >= queue_.size()) {
        queue_.erase(queue_.begin(), queue_.begin() + static_cast<std::ptrdiff_t>(head_));
        head_ = 0;
    }
}

void Subscriber::finish(EventPtr last, errc reason) {
    if (closed_ || ending_) {
        return;
    }
    ending_ = true;
    end_reason_ = reason;
    in_handoff_ = false;
    held_.clear();
    held_bytes_ = 0;
    queued_bytes_ += last->frame.size();
    queue_.push_back(std::move(last));
    wake_();
}

void Subscriber::close(errc reason) {
    if (closed_) {
        return;
    }
    closed_ = true;
    close_reason_ = reason;
    wake_();
}

} // namespace ssecast::hub
