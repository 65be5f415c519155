// SPDX-License-Identifier: MIT
#include "broker/sharded_broker.hpp"

#include <algorithm>
#include <map>
#include <mutex>
#include <optional>
#include <stdexcept>

namespace ssecast::broker {

namespace {
/// Each shard's share of `patterns` ("*" goes to every shard).
std::map<std::size_t, std::vector<hub::TopicPattern>>
group_by_shard(const ShardMap& map, const std::vector<hub::TopicPattern>& patterns) {
    std::map<std::size_t, std::vector<hub::TopicPattern>> by_shard;
    for (const auto& p : patterns) {
        for (const auto s : map.of_pattern(p)) {
            by_shard[s].push_back(p);
        }
    }
    return by_shard;
}
} // namespace

ShardedBroker::ShardedBroker(std::vector<std::unique_ptr<Broker>> shards)
    : shards_(std::move(shards)), map_(shards_.size()) {
    if (shards_.empty()) {
        throw std::invalid_argument("ShardedBroker: at least one shard");
    }
}

void ShardedBroker::start(Deliver deliver) {
    for (auto& s : shards_) {
        s->start(deliver);
    }
}

void ShardedBroker::publish(std::vector<hub::EventDraft> drafts, PublishDone done) {
    // Each draft, or its part on each shard; `answer_from[i]`: the shard and position whose
    // id draft i reports (the shard of its first topic).
    std::map<std::size_t, std::vector<hub::EventDraft>> parts;
    std::vector<std::pair<std::size_t, std::size_t>> answer_from;
    answer_from.reserve(drafts.size());
    for (auto& d : drafts) {
        std::map<std::size_t, std::vector<std::string>> topics_of;
        for (const auto& t : d.topics) {
            topics_of[map_.of_topic(t)].push_back(t);
        }
        const std::size_t first = d.topics.empty() ? 0 : map_.of_topic(d.topics.front());
        answer_from.emplace_back(first, parts[first].size());
        std::vector<std::string> below; // the topics of the shards before this one
        for (auto& [shard, topics] : topics_of) {
            hub::EventDraft part = d;
            part.covered_below = below;
            below.insert(below.end(), topics.begin(), topics.end());
            part.topics = std::move(topics);
            parts[shard].push_back(std::move(part));
        }
    }
    if (parts.size() == 1) {
        auto& [shard, only] = *parts.begin();
        shards_[shard]->publish(std::move(only), std::move(done));
        return;
    }
    struct Join {
        std::mutex mutex;
        std::size_t waiting = 0;
        std::optional<errc> failed;
        std::map<std::size_t, std::vector<sse::EventId>> ids;
        std::vector<std::pair<std::size_t, std::size_t>> answer_from;
        PublishDone done;
    };
    auto join = std::make_shared<Join>();
    join->waiting = parts.size();
    join->answer_from = std::move(answer_from);
    join->done = std::move(done);
    for (auto& [shard, part] : parts) {
        shards_[shard]->publish(
            std::move(part), [join, shard = shard](result<std::vector<sse::EventId>> r) {
                std::unique_lock lock(join->mutex);
                if (r) {
                    join->ids[shard] = std::move(*r);
                } else if (!join->failed) {
                    join->failed = static_cast<errc>(r.error().value());
                }
                if (--join->waiting > 0) {
                    return;
                }
                lock.unlock(); // the last answer: nobody else touches the join now
                if (join->failed) {
                    join->done(*join->failed);
                    return;
                }
                std::vector<sse::EventId> out;
                out.reserve(join->answer_from.size());
                for (const auto& [s, pos] : join->answer_from) {
                    out.push_back(join->ids[s].at(pos));
                }
                join->done(std::move(out));
            });
    }
}

void ShardedBroker::replay(history::ReplayQuery q, ReplayDone done) {
    // Only the patterns that can match topics there: another shard's topic has no record
    // on this one, and an old id would read as a forgotten topic (history-lost).
    std::erase_if(q.topics, [&](const hub::TopicPattern& p) {
        const auto on = map_.of_pattern(p);
        return std::find(on.begin(), on.end(), q.shard) == on.end();
    });
    if (q.topics.empty() || q.shard >= shards_.size()) {
        done(errc::bad_topic);
        return;
    }
    shards_[q.shard]->replay(std::move(q), std::move(done));
}

std::vector<std::uint16_t>
ShardedBroker::shards_of(const std::vector<hub::TopicPattern>& patterns) const {
    std::vector<std::uint16_t> out;
    for (const auto s : map_.of_patterns(patterns)) {
        out.push_back(static_cast<std::uint16_t>(s));
    }
    return out;
}

void ShardedBroker::watch(std::vector<hub::TopicPattern> patterns, WatchDone done) {
    auto by_shard = group_by_shard(map_, patterns);
    if (by_shard.size() == 1) {
        auto& [shard, only] = *by_shard.begin();
        shards_[shard]->watch(std::move(only), std::move(done));
        return;
    }
    if (by_shard.empty()) {
        done({});
        return;
    }
    // All or nothing: a shard that failed leaves the others' watches undone again.
    struct Join {
        std::mutex mutex;
        std::size_t waiting = 0;
        boost::system::error_code failed;
        std::vector<std::size_t> held;
        std::map<std::size_t, std::vector<hub::TopicPattern>> by_shard;
        WatchDone done;
    };
    auto join = std::make_shared<Join>();
    join->waiting = by_shard.size();
    join->by_shard = by_shard;
    join->done = std::move(done);
    for (auto& [shard, part] : by_shard) {
        shards_[shard]->watch(std::move(part),
                              [this, join, shard = shard](boost::system::error_code ec) {
                                  std::unique_lock lock(join->mutex);
                                  if (ec) {
                                      join->failed = join->failed ? join->failed : ec;
                                  } else {
                                      join->held.push_back(shard);
                                  }
                                  if (--join->waiting > 0) {
                                      return;
                                  }
                                  lock.unlock();
                                  if (join->failed) {
                                      for (const auto s : join->held) {
                                          shards_[s]->unwatch(join->by_shard[s]);
                                      }
                                  }
                                  join->done(join->failed);
                              });
    }
}

void ShardedBroker::unwatch(std::vector<hub::TopicPattern> patterns) {
    auto by_shard = group_by_shard(map_, patterns);
    for (auto& [shard, part] : by_shard) {
        shards_[shard]->unwatch(std::move(part));
    }
}

void ShardedBroker::stop() {
    for (auto& s : shards_) {
        s->stop();
    }
}

} // namespace ssecast::broker
