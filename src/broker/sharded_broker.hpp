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
///    shard of its first topic), and reaches a stream once, as a stream reads one shard;
///  - a request is atomic per shard: it succeeds when every shard it touched stored its
///    part, and fails with the first shard's error otherwise, though other shards may
///    have stored (and sent) theirs;
///  - replay needs the query's topics on one shard (errc::bad_topic otherwise: the caller
///    refuses such subscriptions first, see spans_shards).
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
    void stop() override;
    std::string_view name() const noexcept override { return shards_.front()->name(); }

    const ShardMap& map() const noexcept { return map_; }
    Broker& shard(std::size_t i) { return *shards_.at(i); }
    /// True when `patterns` can match topics of more than one shard (such a stream would
    /// need an id per shard to resume: not supported yet, docs/redis.md §Shards).
    bool spans_shards(const std::vector<hub::TopicPattern>& patterns) const {
        return map_.of_patterns(patterns).size() > 1;
    }

  private:
    std::vector<std::unique_ptr<Broker>> shards_;
    ShardMap map_;
};

} // namespace ssecast::broker
