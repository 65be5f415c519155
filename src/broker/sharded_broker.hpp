// SPDX-License-Identifier: MIT
// One Broker over several independent ones, each holding the topics ShardMap gives it
// (SPEC §Scaling out: several Redis shards; docs/redis.md §Shards). Publishes, watches and
// replays go to the shards of their topics; deliveries from every shard go to one callback.
#pragma once

#include "broker/broker.hpp"
#include "broker/shard_map.hpp"

#include <memory>
#include <vector>

namespace ssecast::broker {

/// Keeps each shard's guarantees (broker.hpp) for the topics on it: ids increase within a
/// shard, so within every topic; stored before delivered; each event delivered once per
/// instance. Across shards:
///  - an event on topics of several shards is stored and fanned out once per shard, each
///    copy with that shard's topics and its own id (the answer carries the id from the
///    shard of its first topic); a copy names the topics that went to lower shards
///    (hub::Event::covered_below), so a stream reading several of the copies takes only the
///    one on the lowest shard it matches (hub::Subscriber::wants), live and on replay alike;
///  - a request is atomic per shard: it succeeds when every shard it touched stored its
///    part, and fails with the first shard's error otherwise, though other shards may
///    have stored (and sent) theirs;
///  - replay reads one shard (ReplayQuery::shard), with the query's patterns that can
///    match topics there; a stream over several shards pages through each of them.
/// Thread-safety is the shards': calls are forwarded as they come; the joins of a request
/// split over shards are guarded by a mutex.
class ShardedBroker final : public Broker {
  public:
    explicit ShardedBroker(std::vector<std::unique_ptr<Broker>> shards);

    void start(Deliver deliver) override;
    void publish(std::vector<hub::EventDraft> drafts, PublishDone done) override;
    void replay(history::ReplayQuery q, ReplayDone done) override;
    void watch(std::vector<hub::TopicPattern> patterns, WatchDone done) override;
    void unwatch(std::vector<hub::TopicPattern> patterns) override;
    std::vector<std::uint16_t>
    shards_of(const std::vector<hub::TopicPattern>& patterns) const override;
    void stop() override;
    std::string_view name() const noexcept override { return shards_.front()->name(); }

    const ShardMap& map() const noexcept { return map_; }
    Broker& shard(std::size_t i) { return *shards_.at(i); }

  private:
    std::vector<std::unique_ptr<Broker>> shards_;
    ShardMap map_;
};

} // namespace ssecast::broker
