// SPDX-License-Identifier: MIT
// Topic patterns, the index, fan-out dedupe, user targeting, slow consumers, handoff.
#include "hub/hub.hpp"
#include "hub/inbox.hpp"
#include "hub/shard.hpp"

#include "metrics/metrics.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <thread>

using namespace ssecast;
using namespace ssecast::hub;

namespace {
TopicPattern pat(std::string_view s) {
    return TopicPattern::parse(s).value();
}

EventPtr ev(std::uint64_t ms, std::vector<std::string> topics, std::vector<std::string> users = {},
            std::string data = "x") {
    EventDraft d;
    d.topics = std::move(topics);
    d.users = std::move(users);
    d.data = std::move(data);
    return make_event({ms, 0}, d, {}, {});
}

std::vector<std::uint64_t> ids(const Subscriber& s) {
    std::vector<std::uint64_t> out;
    for (const auto& e : s.pending()) {
        out.push_back(e->id.ms);
    }
    return out;
}
} // namespace

TEST(Topic, Validation) {
    EXPECT_TRUE(is_valid_topic("orders"));
    EXPECT_TRUE(is_valid_topic("a.b_c:d/e@f-g"));
    EXPECT_FALSE(is_valid_topic(""));
    EXPECT_FALSE(is_valid_topic("a b"));
    EXPECT_FALSE(is_valid_topic("a*"));
    EXPECT_FALSE(is_valid_topic("é"));
    EXPECT_TRUE(is_valid_topic(std::string(200, 'a')));
    EXPECT_FALSE(is_valid_topic(std::string(201, 'a')));
}

TEST(TopicPattern, ParseAndMatch) {
    EXPECT_FALSE(TopicPattern::parse("a/*/b"));
    EXPECT_FALSE(TopicPattern::parse("/*"));
    EXPECT_FALSE(TopicPattern::parse("a\n"));
    auto p = pat("orders/*");
    EXPECT_TRUE(p.matches("orders/1"));
    EXPECT_TRUE(p.matches("orders/eu/2"));
    EXPECT_FALSE(p.matches("orders"));
    EXPECT_FALSE(p.matches("ordersX/1"));
    EXPECT_EQ(p.str(), "orders/*");
    EXPECT_TRUE(pat("*").matches("anything"));
    EXPECT_TRUE(pat("orders").matches("orders"));
    EXPECT_FALSE(pat("orders").matches("orders/1"));
}

TEST(TopicPattern, Covers) {
    EXPECT_TRUE(pat("orders/*").covers(pat("orders/1")));
    EXPECT_TRUE(pat("orders/*").covers(pat("orders/eu/*")));
    EXPECT_FALSE(pat("orders/*").covers(pat("orders")));
    EXPECT_FALSE(pat("orders/eu/*").covers(pat("orders/*")));
    EXPECT_TRUE(pat("*").covers(pat("orders/*")));
    EXPECT_FALSE(pat("orders").covers(pat("orders/*")));
    EXPECT_TRUE(pat("orders").covers(pat("orders")));
}

TEST(Hub, DeliversOnceAcrossOverlappingPatternsAndTopics) {
    Hub hub;
    int wakes = 0;
    Subscriber s("u", {pat("a/*"), pat("a/b"), pat("*")}, 1 << 20, [&] { ++wakes; });
    hub.add(&s);
    auto counts = hub.dispatch(ev(1, {"a/b", "a/c"}));
    hub.dispatch(ev(2, {"a/b"}));
    EXPECT_EQ(counts.delivered, 1u);
    EXPECT_EQ(ids(s), (std::vector<std::uint64_t>{1, 2}));
    EXPECT_EQ(wakes, 0); // notified per batch, not per event
    hub.flush_ready();
    EXPECT_EQ(wakes, 1);
    hub.flush_ready();
    EXPECT_EQ(wakes, 1);
    hub.remove(&s);
    EXPECT_EQ(hub.dispatch(ev(3, {"a/b"})).delivered, 0u);
}

TEST(Hub, PrefixDoesNotMatchSiblingsOrParent) {
    Hub hub;
    Subscriber s("u", {pat("a/b/*")}, 1 << 20, [] {});
    hub.add(&s);
    hub.dispatch(ev(1, {"a/b"}));
    hub.dispatch(ev(2, {"a/bc/d"}));
    hub.dispatch(ev(3, {"a/b/c/d"}));
    EXPECT_EQ(ids(s), std::vector<std::uint64_t>{3});
    hub.remove(&s);
}

TEST(Hub, UserTargeting) {
    Hub hub;
    Subscriber alice("alice", {pat("t")}, 1 << 20, [] {});
    Subscriber bob("bob", {pat("t")}, 1 << 20, [] {});
    hub.add(&alice);
    hub.add(&bob);
    hub.dispatch(ev(1, {"t"}, {"bob"}));
    hub.dispatch(ev(2, {"t"}));
    EXPECT_EQ(ids(alice), std::vector<std::uint64_t>{2});
    EXPECT_EQ(ids(bob), (std::vector<std::uint64_t>{1, 2}));
    hub.remove(&alice);
    hub.remove(&bob);
}

TEST(Hub, SlowConsumerIsCutAndCounted) {
    Hub hub;
    Subscriber slow("u", {pat("t")}, 100, [] {});
    Subscriber fast("v", {pat("t")}, 1 << 20, [] {});
    hub.add(&slow);
    hub.add(&fast);
    DispatchCounts total;
    for (std::uint64_t i = 1; i <= 10; ++i) {
        auto c = hub.dispatch(ev(i, {"t"}, {}, std::string(40, 'x')));
        total.dropped += c.dropped;
    }
    EXPECT_TRUE(slow.closed());
    EXPECT_EQ(slow.close_reason(), errc::slow_consumer);
    EXPECT_EQ(total.dropped, 1u);
    EXPECT_LE(slow.queued_bytes(), 100u);
    EXPECT_EQ(fast.pending().size(), 10u);
    fast.consumed(4);
    EXPECT_EQ(fast.pending().front()->id.ms, 5u);
    hub.remove(&slow);
    hub.remove(&fast);
}

TEST(Subscriber, HandoffHasNoGapAndNoDuplicate) {
    Subscriber s("u", {pat("t")}, 1 << 20, [] {});
    s.begin_handoff();
    // Live events 5 and 6 arrive while history is read; history has 3..5.
    s.offer(ev(5, {"t"}));
    s.offer(ev(6, {"t"}));
    const std::vector<EventPtr> page{ev(3, {"t"}), ev(4, {"other"}), ev(5, {"t"})};
    s.push_replay(page, sse::EventId{5, 0});
    s.finish_handoff();
    s.offer(ev(6, {"t"})); // a late duplicate of a held event
    s.offer(ev(7, {"t"}));
    EXPECT_EQ(ids(s), (std::vector<std::uint64_t>{3, 5, 6, 7}));
}

namespace {
EventPtr on_shard(std::uint16_t shard, std::uint64_t ms, std::vector<std::string> topics,
                  std::vector<std::string> below = {}) {
    EventDraft d;
    d.topics = std::move(topics);
    d.covered_below = std::move(below);
    return make_event({ms, 0}, d, {}, {}, shard);
}
} // namespace

TEST(Subscriber, EachShardHasItsOwnHandoffFloor) {
    // redis.shards: ids of different shards are not ordered against each other.
    Subscriber s("u", {pat("a"), pat("b")}, 1 << 20, [] {});
    s.begin_handoff();
    s.offer(on_shard(0, 9, {"a"}));
    s.offer(on_shard(1, 3, {"b"})); // below shard 0's floor, above shard 1's
    s.offer(on_shard(1, 4, {"b"}));
    const std::vector<EventPtr> page0{on_shard(0, 8, {"a"}), on_shard(0, 9, {"a"})};
    s.push_replay(page0, sse::EventId{9, 0}, 0);
    const std::vector<EventPtr> page1{on_shard(1, 2, {"b"}), on_shard(1, 3, {"b"})};
    s.push_replay(page1, sse::EventId{3, 0}, 1);
    s.finish_handoff();
    s.offer(on_shard(1, 4, {"b"})); // a late duplicate of a held event
    s.offer(on_shard(0, 5, {"a"})); // at or below shard 0's floor: already sent
    s.offer(on_shard(0, 10, {"a"}));
    std::vector<std::pair<int, std::uint64_t>> got;
    for (const auto& e : s.pending()) {
        got.emplace_back(e->shard, e->id.ms);
    }
    EXPECT_EQ(got, (std::vector<std::pair<int, std::uint64_t>>{
                       {0, 8}, {0, 9}, {1, 2}, {1, 3}, {1, 4}, {0, 10}}));
}

TEST(Hub, AStreamReadsOneCopyOfAnEventStoredOnSeveralShards) {
    Hub hub;
    Subscriber both("u", {pat("a"), pat("b")}, 1 << 20, [] {});
    Subscriber only_b("u", {pat("b")}, 1 << 20, [] {});
    hub.add(&both);
    hub.add(&only_b);
    // One publish on topics a (shard 0) and b (shard 1): a copy on each shard.
    hub.dispatch(on_shard(1, 7, {"b"}, {"a"}));
    hub.dispatch(on_shard(0, 5, {"a"}));
    ASSERT_EQ(both.pending().size(), 1U);
    EXPECT_EQ(both.pending()[0]->shard, 0); // the copy on the lowest shard it reads
    ASSERT_EQ(only_b.pending().size(), 1U);
    EXPECT_EQ(only_b.pending()[0]->shard, 1);
    // Replay applies the same rule.
    EXPECT_FALSE(both.wants(*on_shard(1, 7, {"b"}, {"a"})));
    EXPECT_TRUE(only_b.wants(*on_shard(1, 7, {"b"}, {"a"})));
    hub.remove(&both);
    hub.remove(&only_b);
}

TEST(Subscriber, PagedReplayRaisesTheFloorPastFilteredEvents) {
    Subscriber s("u", {pat("t")}, 1 << 20, [] {});
    s.begin_handoff();
    s.offer(ev(4, {"t"})); // live, arrives during the first page; replayed by the second
    s.offer(ev(7, {"t"}));
    const std::vector<EventPtr> first{ev(2, {"t"}), ev(3, {"t"})};
    s.push_replay(first, sse::EventId{3, 0});
    // The second page looked at 4..6 (5 and 6 filtered out by topic in the backend).
    const std::vector<EventPtr> second{ev(3, {"t"}), ev(4, {"t"})};
    s.push_replay(second, sse::EventId{6, 0});
    s.offer(ev(6, {"t"})); // at the floor: already accounted for
    s.finish_handoff();
    EXPECT_EQ(ids(s), (std::vector<std::uint64_t>{2, 3, 4, 7}));
}

TEST(Subscriber, HeldLiveEventsOverTheirBudgetAreDroppedNotCut) {
    Subscriber s("u", {pat("t")}, 400, [] {});
    s.begin_handoff();
    const std::vector<EventPtr> page{ev(1, {"t"}, {}, std::string(300, 'x'))};
    s.push_replay(page, sse::EventId{1, 0}); // a page may exceed half the queue
    EXPECT_EQ(s.offer(ev(2, {"t"}, {}, std::string(100, 'x'))), Subscriber::Offer::queued);
    EXPECT_EQ(s.held_drops(), 0u);
    // Held events are capped at half the queue: over it they are dropped (history has them).
    EXPECT_EQ(s.offer(ev(3, {"t"}, {}, std::string(100, 'x'))), Subscriber::Offer::filtered);
    EXPECT_EQ(s.held_drops(), 1u);
    EXPECT_FALSE(s.closed());
    s.offer(ev(4, {"t"}));
    const std::vector<EventPtr> again{ev(2, {"t"}), ev(3, {"t"})};
    s.push_replay(again, sse::EventId{3, 0});
    s.finish_handoff();
    EXPECT_EQ(ids(s), (std::vector<std::uint64_t>{1, 2, 3, 4}));
}

TEST(Subscriber, AFloorBelowTheResumeIdLetsEveryNewEventThrough) {
    // An id from the future: the backend answers with the newest assigned id as next_after.
    Subscriber s("u", {pat("t")}, 1 << 20, [] {});
    s.begin_handoff();
    s.offer(ev(10, {"t"}));
    s.push_replay({}, sse::EventId{9, 0});
    s.finish_handoff();
    s.offer(ev(11, {"t"}));
    EXPECT_EQ(ids(s), (std::vector<std::uint64_t>{10, 11}));
}

TEST(Subscriber, HandoffSkipsReplayAtOrBelowResumePoint) {
    Subscriber s("u", {pat("t")}, 1 << 20, [] {});
    s.begin_handoff();
    s.push_replay({}, sse::EventId{3, 0});
    const std::vector<EventPtr> page{ev(3, {"t"}), ev(4, {"t"})};
    s.push_replay(page, sse::EventId{4, 0});
    s.finish_handoff();
    EXPECT_EQ(ids(s), std::vector<std::uint64_t>{4});
}

TEST(Subscriber, HeartbeatOnlyWhenIdleAndNotDuringHandoff) {
    int wakes = 0;
    Subscriber s("u", {pat("t")}, 1 << 20, [&] { ++wakes; });
    const auto heartbeat = ev(0, {});
    s.push_heartbeat(heartbeat);
    ASSERT_EQ(s.pending().size(), 1u);
    EXPECT_EQ(s.pending()[0], heartbeat);
    EXPECT_EQ(wakes, 1);

    s.push_heartbeat(heartbeat); // something is pending: no second heartbeat
    EXPECT_EQ(s.pending().size(), 1u);
    s.consumed(1);
    EXPECT_EQ(s.queued_bytes(), 0u);

    s.begin_handoff(); // not live yet: the replay comes first
    s.push_heartbeat(heartbeat);
    EXPECT_TRUE(s.pending().empty());
    s.finish_handoff();

    s.close(errc::ok);
    s.push_heartbeat(heartbeat);
    EXPECT_TRUE(s.pending().empty());
}

TEST(EventInbox, OneWakeUpPerBurstAndFifoOrder) {
    EventInbox inbox;
    EXPECT_TRUE(inbox.push(ev(1, {"t"})));
    EXPECT_FALSE(inbox.push(ev(2, {"t"})));
    std::vector<EventPtr> out;
    inbox.take(out);
    ASSERT_EQ(out.size(), 2u);
    EXPECT_EQ(out[0]->id.ms, 1u);
    EXPECT_EQ(out[1]->id.ms, 2u);
    EXPECT_TRUE(inbox.push(ev(3, {"t"})));
}

TEST(Shard, DeliverFromAnotherThreadReachesTheHubInOrderInOneDrain) {
    metrics::Metrics m(1);
    Shard shard(0, m.shard(0));
    int wakes = 0;
    Subscriber s("u", {pat("t")}, 1 << 20, [&] { ++wakes; });
    shard.hub().add(&s);
    std::thread broker([&] {
        for (std::uint64_t i = 1; i <= 3; ++i) {
            shard.deliver(ev(i, {"t"}));
        }
    });
    broker.join();
    EXPECT_TRUE(ids(s).empty());       // nothing reaches the hub off the shard's loop
    EXPECT_EQ(shard.ioc().poll(), 1u); // one drain for the burst
    EXPECT_EQ(ids(s), (std::vector<std::uint64_t>{1, 2, 3}));
    EXPECT_EQ(wakes, 1);
    EXPECT_EQ(m.totals().delivered, 3u);
    shard.hub().remove(&s);
}

TEST(Subscriber, EventsPublishedAtOrAfterExpiryAreNeverQueued) {
    Subscriber s("u", {pat("t")}, 1 << 20, [] {});
    const auto exp = std::chrono::system_clock::time_point(std::chrono::seconds(1000));
    s.set_expiry(exp);
    EventDraft d;
    d.topics = {"t"};
    const auto before = make_event({1, 0}, d, exp - std::chrono::milliseconds(1), {});
    const auto at = make_event({2, 0}, d, exp, {});
    const auto after = make_event({3, 0}, d, exp + std::chrono::seconds(5), {});
    EXPECT_EQ(s.offer(before), Subscriber::Offer::queued);
    EXPECT_EQ(s.offer(at), Subscriber::Offer::filtered);
    EXPECT_EQ(s.offer(after), Subscriber::Offer::filtered);
    // Replay pages obey the same rule.
    Subscriber r("u", {pat("t")}, 1 << 20, [] {});
    r.set_expiry(exp);
    r.begin_handoff();
    const std::vector<EventPtr> page = {before, at, after};
    r.push_replay(page, {3, 0});
    r.finish_handoff();
    EXPECT_EQ(ids(r), (std::vector<std::uint64_t>{1}));
}

TEST(Subscriber, FinishQueuesTheLastFrameAfterWhatIsQueuedAndTakesNothingMore) {
    int wakes = 0;
    Subscriber s("u", {pat("t")}, 1 << 20, [&] { ++wakes; });
    ASSERT_EQ(s.offer(ev(1, {"t"})), Subscriber::Offer::queued);
    auto last = std::make_shared<Event>();
    last->frame = "event: ssecast.disconnected\ndata: {}\n\n";
    s.finish(last, errc::forbidden);
    EXPECT_TRUE(s.ending());
    EXPECT_FALSE(s.closed()); // the writer closes once the queue is empty
    EXPECT_EQ(s.end_reason(), errc::forbidden);
    EXPECT_EQ(wakes, 1);
    EXPECT_EQ(s.offer(ev(2, {"t"})), Subscriber::Offer::filtered);
    s.push_heartbeat(last);
    ASSERT_EQ(s.pending().size(), 2U);
    EXPECT_EQ(s.pending()[0]->id.ms, 1U);
    EXPECT_EQ(s.pending()[1], last);
    // A second finish changes nothing.
    s.finish(std::make_shared<Event>(), errc::unauthorized);
    EXPECT_EQ(s.pending().size(), 2U);
    EXPECT_EQ(s.end_reason(), errc::forbidden);
}

TEST(Subscriber, FinishDuringAHandoffDropsTheHeldEvents) {
    Subscriber s("u", {pat("t")}, 1 << 20, [] {});
    s.begin_handoff();
    ASSERT_EQ(s.offer(ev(5, {"t"})), Subscriber::Offer::queued); // held
    s.finish(std::make_shared<Event>(), errc::unauthorized);
    const std::vector<EventPtr> page = {ev(4, {"t"})};
    s.push_replay(page, {4, 0});
    s.finish_handoff();
    EXPECT_EQ(s.pending().size(), 1U); // only the last frame
}
