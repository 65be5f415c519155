// SPDX-License-Identifier: MIT
#include "broker/sharded_broker.hpp"

#include <gtest/gtest.h>

#include <string>

namespace ssecast::broker {
namespace {

/// A shard that answers at once: ids "<shard>-<n>", or `fail` for every call.
class FakeShard final : public Broker {
  public:
    explicit FakeShard(std::uint64_t index) : index_(index) {}
    void start(Deliver) override { started = true; }
    void publish(std::vector<hub::EventDraft> drafts, PublishDone done) override {
        published.push_back(drafts);
        if (fail) {
            done(errc::backend_unavailable);
            return;
        }
        std::vector<sse::EventId> ids;
        for (std::size_t i = 0; i < drafts.size(); ++i) {
            ids.push_back(sse::EventId{index_, ++next_});
        }
        done(std::move(ids));
    }
    void replay(history::ReplayQuery q, ReplayDone done) override {
        replays.push_back(q);
        done(history::Replay{});
    }
    void watch(std::vector<hub::TopicPattern> patterns, WatchDone done) override {
        if (fail) {
            done(errc::backend_unavailable);
            return;
        }
        for (const auto& p : patterns) {
            watched.push_back(p.str());
        }
        done({});
    }
    void unwatch(std::vector<hub::TopicPattern> patterns) override {
        for (const auto& p : patterns) {
            std::erase(watched, p.str());
        }
    }
    void stop() override {}
    std::string_view name() const noexcept override { return "fake"; }

    bool started = false;
    bool fail = false;
    std::vector<std::vector<hub::EventDraft>> published;
    std::vector<history::ReplayQuery> replays;
    std::vector<std::string> watched;

  private:
    std::uint64_t index_;
    std::uint64_t next_ = 0;
};

struct Fixture {
    Fixture() {
        std::vector<std::unique_ptr<Broker>> list;
        for (std::uint64_t i = 0; i < 3; ++i) {
            auto s = std::make_unique<FakeShard>(i);
            shards.push_back(s.get());
            list.push_back(std::move(s));
        }
        broker = std::make_unique<ShardedBroker>(std::move(list));
    }
    /// A topic name that lives on shard `want`.
    std::string topic_on(std::size_t want, const std::string& base = "t") const {
        for (int i = 0;; ++i) {
            auto name = base + std::to_string(i);
            if (broker->map().of_topic(name) == want) {
                return name;
            }
        }
    }
    std::vector<FakeShard*> shards;
    std::unique_ptr<ShardedBroker> broker;
};

hub::EventDraft draft(std::vector<std::string> topics, std::string data) {
    hub::EventDraft d;
    d.topics = std::move(topics);
    d.data = std::move(data);
    return d;
}

TEST(ShardedBroker, ABatchGoesToEachTopicsShardAndIdsComeBackInOrder) {
    Fixture f;
    const auto a = f.topic_on(0), b = f.topic_on(2);
    std::optional<result<std::vector<sse::EventId>>> got;
    f.broker->publish({draft({b}, "1"), draft({a}, "2"), draft({b}, "3")},
                      [&](result<std::vector<sse::EventId>> r) { got = std::move(r); });
    ASSERT_TRUE(got && *got);
    EXPECT_EQ(**got, (std::vector<sse::EventId>{{2, 1}, {0, 1}, {2, 2}}));
    ASSERT_EQ(f.shards[2]->published.size(), 1U); // one call per shard: its part of the batch
    EXPECT_EQ(f.shards[2]->published[0].size(), 2U);
    EXPECT_EQ(f.shards[2]->published[0][1].data, "3");
    EXPECT_TRUE(f.shards[1]->published.empty());
}

TEST(ShardedBroker, AnEventOnTopicsOfTwoShardsIsStoredOnEachWithItsTopics) {
    Fixture f;
    const auto a = f.topic_on(1), b = f.topic_on(2, "u");
    std::optional<result<std::vector<sse::EventId>>> got;
    f.broker->publish({draft({a, b}, "x")},
                      [&](result<std::vector<sse::EventId>> r) { got = std::move(r); });
    ASSERT_TRUE(got && *got);
    EXPECT_EQ(**got, (std::vector<sse::EventId>{{1, 1}})); // the first topic's shard
    ASSERT_EQ(f.shards[1]->published.size(), 1U);
    EXPECT_EQ(f.shards[1]->published[0][0].topics, std::vector<std::string>{a});
    ASSERT_EQ(f.shards[2]->published.size(), 1U);
    EXPECT_EQ(f.shards[2]->published[0][0].topics, std::vector<std::string>{b});
}

TEST(ShardedBroker, OneShardDownFailsOnlyWhatTouchesIt) {
    Fixture f;
    f.shards[1]->fail = true;
    std::optional<result<std::vector<sse::EventId>>> ok, bad;
    f.broker->publish({draft({f.topic_on(0)}, "1")}, [&](auto r) { ok = std::move(r); });
    f.broker->publish({draft({f.topic_on(0)}, "2"), draft({f.topic_on(1)}, "3")},
                      [&](auto r) { bad = std::move(r); });
    ASSERT_TRUE(ok && *ok);
    ASSERT_TRUE(bad);
    EXPECT_EQ(bad->error(), make_error_code(errc::backend_unavailable));
}

TEST(ShardedBroker, WatchIsAllOrNothingAcrossShards) {
    Fixture f;
    const auto a = f.topic_on(0);
    boost::system::error_code ec;
    f.broker->watch({*hub::TopicPattern::parse(a)}, [&](auto e) { ec = e; });
    EXPECT_FALSE(ec);
    EXPECT_EQ(f.shards[0]->watched, std::vector<std::string>{a});
    f.shards[2]->fail = true;
    f.broker->watch({*hub::TopicPattern::parse("*")}, [&](auto e) { ec = e; });
    EXPECT_EQ(ec, make_error_code(errc::backend_unavailable));
    EXPECT_EQ(f.shards[0]->watched, std::vector<std::string>{a}); // "*" undone again
    EXPECT_TRUE(f.shards[1]->watched.empty());
    f.broker->unwatch({*hub::TopicPattern::parse(a)});
    EXPECT_TRUE(f.shards[0]->watched.empty());
}

TEST(ShardedBroker, ReplayReadsTheShardAskedForWithThePatternsThatLiveThere) {
    Fixture f;
    const auto a = f.topic_on(2), b = f.topic_on(0);
    history::ReplayQuery q;
    q.topics = {*hub::TopicPattern::parse(a + "/*"), *hub::TopicPattern::parse(b),
                *hub::TopicPattern::parse(a)};
    EXPECT_EQ(f.broker->shards_of(q.topics), (std::vector<std::uint16_t>{0, 2}));
    q.shard = 2;
    std::optional<result<history::Replay>> got;
    f.broker->replay(q, [&](auto r) { got = std::move(r); });
    ASSERT_TRUE(got && *got);
    ASSERT_EQ(f.shards[2]->replays.size(), 1U);
    // b's shard is not asked, and shard 2 is not asked about b (it has no record of it).
    const auto& asked = f.shards[2]->replays[0].topics;
    ASSERT_EQ(asked.size(), 2U);
    EXPECT_EQ(asked[0].str(), a + "/*");
    EXPECT_EQ(asked[1].str(), a);
    EXPECT_TRUE(f.shards[0]->replays.empty());
    // "*" reads every shard, one at a time.
    EXPECT_EQ(f.broker->shards_of({*hub::TopicPattern::parse("*")}),
              (std::vector<std::uint16_t>{0, 1, 2}));
    // No pattern of the query can match topics on shard 1.
    q.shard = 1;
    f.broker->replay(q, [&](auto r) { got = std::move(r); });
    EXPECT_EQ(got->error(), make_error_code(errc::bad_topic));
    EXPECT_TRUE(f.shards[1]->replays.empty());
}

TEST(ShardedBroker, ACopyOnAHigherShardNamesTheTopicsStoredBelowIt) {
    Fixture f;
    const auto a = f.topic_on(0), b = f.topic_on(1), c = f.topic_on(2), c2 = f.topic_on(2, "v");
    std::optional<result<std::vector<sse::EventId>>> got;
    f.broker->publish({draft({c, a, c2, b}, "x")}, [&](auto r) { got = std::move(r); });
    ASSERT_TRUE(got && *got);
    EXPECT_EQ(**got, (std::vector<sse::EventId>{{2, 1}})); // the first topic's shard
    EXPECT_TRUE(f.shards[0]->published[0][0].covered_below.empty());
    EXPECT_EQ(f.shards[1]->published[0][0].covered_below, std::vector<std::string>{a});
    EXPECT_EQ(f.shards[2]->published[0][0].topics, (std::vector<std::string>{c, c2}));
    EXPECT_EQ(f.shards[2]->published[0][0].covered_below, (std::vector<std::string>{a, b}));
}

} // namespace
} // namespace ssecast::broker
