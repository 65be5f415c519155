// SPDX-License-Identifier: MIT
// Broker for one process: ids from a monotonic clock generator, in-memory history,
// synchronous in-process delivery.
#pragma once

#include "broker/broker.hpp"
#include "common/clock.hpp"
#include "config/config.hpp"
#include "history/memory_history.hpp"

#include <mutex>

namespace ssecast::broker {

/// Thread-safe. publish() and replay() complete synchronously on the calling thread.
class MemoryBroker final : public Broker {
  public:
    /// `shard`: stamped on its events when it stands for one shard of a ShardedBroker (tests).
    MemoryBroker(const config::HistoryConfig& cfg, const Clock& clock, std::uint16_t shard = 0);

    void start(Deliver deliver) override;
    void publish(std::vector<hub::EventDraft> drafts, PublishDone done) override;
    void replay(history::ReplayQuery q, ReplayDone done) override;
    /// Every event reaches deliver in memory mode: nothing to set up.
    void watch(std::vector<hub::TopicPattern>, WatchDone done) override { done({}); }
    void unwatch(std::vector<hub::TopicPattern>) override {}
    void stop() override;
    std::string_view name() const noexcept override { return "memory"; }
    /// Returns expired history (idle topics included) in bounded steps; App calls it about
    /// once a second. Any thread.
    void trim_history() { history_.trim(); }

  private:
    const Clock& clock_;
    const std::uint16_t shard_;
    std::mutex mutex_; // guards ids_ and the append→deliver order; history_ has its own lock
    sse::EventIdGenerator ids_;
    history::MemoryHistory history_;
    Deliver deliver_;
};

} // namespace ssecast::broker
