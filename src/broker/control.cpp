// SPDX-License-Identifier: MIT
// BlockList and the one-process Control.
#include "broker/control.hpp"

namespace ssecast::broker {

namespace {
/// Past this many entries a block() sweeps out the expired ones, so the map stays bounded
/// by the blocks in force.
constexpr std::size_t kSweepAbove = 1024;
} // namespace

void BlockList::block(const std::string& user, std::chrono::system_clock::time_point until) {
    const std::lock_guard lock(mutex_);
    if (until_.size() > kSweepAbove) {
        const auto now = std::chrono::system_clock::now();
        std::erase_if(until_, [now](const auto& kv) { return kv.second <= now; });
    }
    auto& slot = until_[user];
    slot = std::max(slot, until);
}

bool BlockList::blocked(std::string_view user, std::chrono::system_clock::time_point now) const {
    const std::lock_guard lock(mutex_);
    const auto it = until_.find(std::string(user));
    return it != until_.end() && now < it->second;
}

void MemoryControl::disconnect(DisconnectOrder order, DisconnectDone done) {
    if (!order.user.empty() && order.block.count() > 0) {
        blocks_.block(order.user, std::chrono::system_clock::now() + order.block);
    }
    local_(order, [done = std::move(done)](std::size_t n) { done(n); });
}

bool MemoryControl::blocked(std::string_view user) const {
    return blocks_.blocked(user, std::chrono::system_clock::now());
}

} // namespace ssecast::broker
