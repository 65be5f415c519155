// SPDX-License-Identifier: MIT
// In-process broker.
#include "broker/memory_broker.hpp"

namespace ssecast::broker {

namespace {
std::uint64_t unix_ms(std::chrono::system_clock::time_point t) {
    return static_cast<std::uint64_t>(
        std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count());
}
} // namespace

MemoryBroker::MemoryBroker(const config::HistoryConfig& cfg, const Clock& clock,
                           std::uint16_t shard)
    : clock_(clock), shard_(shard), history_(cfg.max_events, cfg.max_total_events, cfg.max_age,
                                             clock, sse::EventId{unix_ms(clock.system_now()), 0}) {}

void MemoryBroker::start(Deliver deliver) {
    const std::lock_guard lock(mutex_);
    deliver_ = std::move(deliver);
}

void MemoryBroker::publish(std::vector<hub::EventDraft> drafts, PublishDone done) {
    std::vector<sse::EventId> ids;
    ids.reserve(drafts.size());
    {
        // One lock across id, append and deliver keeps delivery in id order on every shard.
        const std::lock_guard lock(mutex_);
        const auto now = clock_.system_now();
        const auto steady = clock_.steady_now();
        for (const auto& draft : drafts) {
            const sse::EventId id = ids_.next(unix_ms(now));
            auto event = hub::make_event(id, draft, now, steady, shard_);
            history_.append(event);
            if (deliver_) {
                deliver_(event);
            }
            ids.push_back(id);
        }
    }
    done(std::move(ids));
}

void MemoryBroker::replay(history::ReplayQuery q, ReplayDone done) {
    done(history_.after(q));
}

void MemoryBroker::stop() {
    const std::lock_guard lock(mutex_);
    deliver_ = nullptr;
}

} // namespace ssecast::broker
