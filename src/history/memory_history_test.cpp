// SPDX-License-Identifier: MIT
// Per-topic history: bounds, eviction order, history-lost in both directions, record expiry,
// the per-topic replay merge and its paging.
#include "history/memory_history.hpp"

#include <gtest/gtest.h>

#include <limits>

using namespace ssecast;
using namespace std::chrono_literals;

namespace {
constexpr std::uint64_t kMax = std::numeric_limits<std::uint64_t>::max();

hub::EventPtr ev(const FakeClock& clock, std::uint64_t ms,
                 std::vector<std::string> topics = {"t"}) {
    hub::EventDraft d;
    d.topics = std::move(topics);
    return hub::make_event({ms, 0}, d, clock.system_now(), clock.steady_now());
}
hub::TopicPattern pat(std::string_view text) {
    return *hub::TopicPattern::parse(text);
}
history::ReplayQuery q(sse::EventId after, std::vector<hub::TopicPattern> topics = {}) {
    return history::ReplayQuery{after, std::move(topics), 1000, 1 << 20};
}
std::vector<std::uint64_t> ms_of(const history::Replay& r) {
    std::vector<std::uint64_t> out;
    for (const auto& e : r.events) {
        out.push_back(e->id.ms);
    }
    return out;
}
std::uint64_t clock_ms(const FakeClock& clock) {
    return static_cast<std::uint64_t>(
        std::chrono::duration_cast<std::chrono::milliseconds>(clock.system_now().time_since_epoch())
            .count());
}
using Ms = std::vector<std::uint64_t>;
} // namespace

TEST(MemoryHistory, ReplaysEverythingAfterTheId) {
    FakeClock clock;
    history::MemoryHistory h(10, 1000, 3600s, clock, {100, 0});
    for (std::uint64_t i = 100; i < 105; ++i) {
        h.append(ev(clock, i));
    }
    auto r = h.after(q({102, 0}));
    EXPECT_FALSE(r.lost);
    EXPECT_EQ(ms_of(r), (Ms{103, 104}));
    EXPECT_TRUE(h.after(q({104, 0})).events.empty());
    EXPECT_FALSE(h.after(q({100, 0})).lost);
}

TEST(MemoryHistory, IdsBeforeStartAreLost) {
    FakeClock clock;
    history::MemoryHistory h(10, 1000, 3600s, clock, {100, 0});
    h.append(ev(clock, 100));
    EXPECT_TRUE(h.after(q({99, 5})).lost);
    EXPECT_EQ(h.after(q({99, 5})).events.size(), 1u);
    EXPECT_TRUE(h.after(q({99, 5}, {pat("t")})).lost);
}

TEST(MemoryHistory, CountBoundEvictsOldestAndReportsLoss) {
    FakeClock clock;
    history::MemoryHistory h(3, 1000, 3600s, clock, {1, 0});
    for (std::uint64_t i = 1; i <= 6; ++i) {
        h.append(ev(clock, i));
    }
    EXPECT_EQ(h.size(), 3u);
    EXPECT_FALSE(h.after(q({3, 0})).lost); // 4,5,6 retained: nothing missed
    auto r = h.after(q({2, 0}));           // 3 was evicted
    EXPECT_TRUE(r.lost);
    EXPECT_EQ(ms_of(r), (Ms{4, 5, 6}));
}

TEST(MemoryHistory, AQuietTopicSurvivesABusyOne) {
    // The issue #13 measurement: max_events = 20, 2 events on quiet, then 30 on hot.
    FakeClock clock;
    history::MemoryHistory h(20, 1000, 3600s, clock, {1, 0});
    h.append(ev(clock, 1, {"quiet"}));
    h.append(ev(clock, 2, {"quiet"}));
    for (std::uint64_t i = 3; i < 33; ++i) {
        h.append(ev(clock, i, {"hot"}));
    }
    EXPECT_EQ(h.size(), 22u);
    EXPECT_EQ(h.topic_count(), 2u);
    auto r = h.after(q({0, kMax}, {pat("quiet")}));
    EXPECT_FALSE(r.lost);
    EXPECT_EQ(ms_of(r), (Ms{1, 2}));
    EXPECT_FALSE(r.more);
    // hot lost 3..12: a resume from before them is lost, one from 12 on is not.
    r = h.after(q({2, 0}, {pat("hot")}));
    EXPECT_TRUE(r.lost);
    EXPECT_EQ(r.events.size(), 20u);
    EXPECT_EQ(r.events.front()->id.ms, 13u);
    EXPECT_FALSE(h.after(q({12, 0}, {pat("hot")})).lost);
    // A subscription to both is lost (hot's gap), and still gets quiet's events.
    r = h.after(q({0, kMax}, {pat("quiet"), pat("hot")}));
    EXPECT_TRUE(r.lost);
    EXPECT_EQ(r.events.size(), 22u);
    EXPECT_EQ(r.lost_through, (sse::EventId{12, 0}));
}

TEST(MemoryHistory, TotalBoundEvictsTheOldestEventsOfTheLargestTopicFirst) {
    FakeClock clock;
    history::MemoryHistory h(100, 5, 3600s, clock, {1, 0});
    for (std::uint64_t i = 1; i <= 3; ++i) {
        h.append(ev(clock, i, {"a"}));
    }
    h.append(ev(clock, 4, {"b"}));
    h.append(ev(clock, 5, {"b"}));
    h.append(ev(clock, 6, {"c"})); // 6 entries: a (3) is the largest, 1 goes
    EXPECT_EQ(h.size(), 5u);
    EXPECT_EQ(ms_of(h.after(q({0, kMax}, {pat("a")}))), (Ms{2, 3}));
    h.append(ev(clock, 7, {"c"})); // a, b, c hold 2 each: a holds the oldest (2), it goes
    EXPECT_EQ(ms_of(h.after(q({0, kMax}, {pat("a")}))), (Ms{3}));
    h.append(ev(clock, 8, {"c"})); // c (3) is the largest: 6 goes
    EXPECT_EQ(h.size(), 5u);
    EXPECT_EQ(ms_of(h.after(q({0, kMax}, {pat("c")}))), (Ms{7, 8}));
    // Lost, exactly, in both directions, for each topic.
    EXPECT_TRUE(h.after(q({1, 0}, {pat("a")})).lost);
    EXPECT_FALSE(h.after(q({2, 0}, {pat("a")})).lost);
    EXPECT_FALSE(h.after(q({0, kMax}, {pat("b")})).lost); // b lost nothing
    EXPECT_TRUE(h.after(q({5, 0}, {pat("c")})).lost);
    EXPECT_FALSE(h.after(q({6, 0}, {pat("c")})).lost);
}

TEST(MemoryHistory, AnEventOnSeveralTopicsIsHeldByEachAndReplayedOnce) {
    FakeClock clock;
    history::MemoryHistory h(2, 1000, 3600s, clock, {1, 0});
    h.append(ev(clock, 1, {"a", "b"}));
    h.append(ev(clock, 2, {"a"}));
    h.append(ev(clock, 3, {"b", "a"}));
    EXPECT_EQ(h.size(), 4u); // a: 2, 3 (1 evicted by count); b: 1, 3
    auto r = h.after(q({0, kMax}, {pat("a"), pat("b")}));
    EXPECT_EQ(ms_of(r), (Ms{1, 2, 3}));
    // 1 left a: a's record says lost, although b still holds it (per-topic bookkeeping
    // cannot tell which gone events another selected topic kept; lost errs to the safe side).
    EXPECT_TRUE(r.lost);
    EXPECT_FALSE(r.more);
    EXPECT_EQ(ms_of(h.after(q({0, kMax}, {pat("*")}))), (Ms{1, 2, 3}));
    EXPECT_TRUE(h.after(q({0, kMax}, {pat("a")})).lost); // a alone misses 1
    // A page that ends on a shared event does not report the copy as more.
    r = h.after({{0, kMax}, {pat("a"), pat("b")}, 3, 1 << 20});
    EXPECT_FALSE(r.more);
    r = h.after({{1, 0}, {pat("a"), pat("b")}, 1, 1 << 20});
    EXPECT_EQ(ms_of(r), (Ms{2}));
    EXPECT_TRUE(r.more);
}

TEST(MemoryHistory, TopicNamedTwiceInOneEventCountsOnce) {
    FakeClock clock;
    history::MemoryHistory h(10, 1000, 3600s, clock, {1, 0});
    h.append(ev(clock, 1, {"a", "a"}));
    EXPECT_EQ(h.size(), 1u);
}

TEST(MemoryHistory, AgeBoundExpiresOnAppendAndOnTrim) {
    FakeClock clock;
    history::MemoryHistory h(100, 1000, 10s, clock, {1, 0});
    h.append(ev(clock, 1));
    clock.advance(6s);
    h.append(ev(clock, 2));
    clock.advance(5s);
    h.trim();
    EXPECT_EQ(h.size(), 1u);
    EXPECT_TRUE(h.after(q({0, 0})).lost);
    EXPECT_FALSE(h.after(q({1, 0})).lost);
    EXPECT_EQ(ms_of(h.after(q({1, 0}))), (Ms{2}));
    // An append trims its own topic without trim().
    clock.advance(10s);
    h.append(ev(clock, 3));
    EXPECT_EQ(ms_of(h.after(q({0, kMax}, {pat("t")}))), (Ms{3}));
    EXPECT_TRUE(h.after(q({1, 0}, {pat("t")})).lost);
    EXPECT_FALSE(h.after(q({2, 0}, {pat("t")})).lost);
}

TEST(MemoryHistory, AnIdleTopicIsTrimmedThenItsRecordDroppedAfterTwiceTheAge) {
    FakeClock clock;
    history::MemoryHistory h(100, 1000, 10s, clock, {1, 0});
    h.append(ev(clock, 1, {"idle"}));
    h.append(ev(clock, 2, {"idle"}));
    clock.advance(11s);
    h.trim();
    EXPECT_EQ(h.size(), 0u);
    EXPECT_EQ(h.topic_count(), 1u); // the record stays: loss is still exact
    EXPECT_TRUE(h.after(q({1, 0}, {pat("idle")})).lost);
    EXPECT_FALSE(h.after(q({2, 0}, {pat("idle")})).lost);
    clock.advance(8s); // 19 s after the last event
    h.trim();
    EXPECT_EQ(h.topic_count(), 1u);
    clock.advance(2s); // 21 s: past 2 × max_age
    h.trim();
    EXPECT_EQ(h.topic_count(), 0u);
    // No record: lost only for ids from before the newest dropped one.
    EXPECT_TRUE(h.after(q({1, 0}, {pat("idle")})).lost);
    EXPECT_FALSE(h.after(q({2, 0}, {pat("idle")})).lost);
    EXPECT_FALSE(h.after(q({2, 0}, {pat("never")})).lost);
    EXPECT_TRUE(h.after(q({1, 0}, {pat("never")})).lost); // it might have lived and gone
    // A record made again remembers that older events of its name may be gone.
    h.append(ev(clock, 3, {"idle"}));
    auto r = h.after(q({1, 0}, {pat("idle")}));
    EXPECT_TRUE(r.lost);
    EXPECT_EQ(ms_of(r), (Ms{3}));
    EXPECT_FALSE(h.after(q({2, 0}, {pat("idle")})).lost);
}

TEST(MemoryHistory, WithoutARecordIdsNewerThanTheAgeHorizonAreNotLost) {
    // The time rule (the one redis mode uses): no event of a topic without a record can
    // have ms ≥ now − 2 × max_age + kIdLead. Here ids run far ahead of the clock only to
    // put the newest dropped id above that line.
    FakeClock clock;
    history::MemoryHistory h(100, 1000, 3600s, clock, {1, 0});
    const std::uint64_t start = clock_ms(clock);
    h.append(ev(clock, start + 3'600'000, {"gone"})); // an hour ahead
    clock.advance(7201s);
    h.trim();
    ASSERT_EQ(h.topic_count(), 0u);
    const std::uint64_t horizon = clock_ms(clock) - 7'200'000 + 300'000;
    EXPECT_TRUE(h.after(q({horizon - 1, kMax - 1}, {pat("x")})).lost);
    EXPECT_FALSE(h.after(q({horizon, 0}, {pat("x")})).lost);
}

TEST(MemoryHistory, PrefixAndStarResumeReadTheirTopicsOnly) {
    FakeClock clock;
    history::MemoryHistory h(100, 1000, 3600s, clock, {1, 0});
    h.append(ev(clock, 1, {"orders/1"}));
    h.append(ev(clock, 2, {"ordersx"}));
    h.append(ev(clock, 3, {"orders/eu/2"}));
    h.append(ev(clock, 4, {"orders"}));
    h.append(ev(clock, 5, {"other"}));
    h.append(ev(clock, 6, {"orders/1"}));
    EXPECT_EQ(ms_of(h.after(q({0, kMax}, {pat("orders/*")}))), (Ms{1, 3, 6}));
    EXPECT_EQ(ms_of(h.after(q({0, kMax}, {pat("orders/eu/*")}))), (Ms{3}));
    EXPECT_EQ(ms_of(h.after(q({0, kMax}, {pat("orders/*"), pat("orders/1"), pat("orders")}))),
              (Ms{1, 3, 4, 6}));
    EXPECT_EQ(ms_of(h.after(q({0, kMax}, {pat("*")}))), (Ms{1, 2, 3, 4, 5, 6}));
    EXPECT_EQ(ms_of(h.after(q({0, kMax}))), (Ms{1, 2, 3, 4, 5, 6}));
    EXPECT_EQ(ms_of(h.after(q({3, 0}, {pat("orders/*")}))), (Ms{6}));
    EXPECT_FALSE(h.after(q({0, kMax}, {pat("orders/*")})).lost);
}

TEST(MemoryHistory, PagesAreBoundedAndSayWhereToGoOn) {
    // Semantics since per-topic history: only the selected topics are read, so max_scan
    // counts their events (before, every retained event counted, other topics' too).
    FakeClock clock;
    history::MemoryHistory h(100, 1000, 3600s, clock, {1, 0});
    for (std::uint64_t i = 1; i <= 10; ++i) {
        h.append(ev(clock, i, {i % 2 == 0 ? "even" : "odd"}));
    }
    auto r = h.after({{1, 0}, {pat("even")}, 3, 1 << 20});
    EXPECT_EQ(ms_of(r), (Ms{2, 4, 6}));
    EXPECT_TRUE(r.more);
    EXPECT_EQ(r.next_after, (sse::EventId{6, 0}));
    r = h.after({r.next_after, {pat("even")}, 100, 1 << 20});
    EXPECT_EQ(ms_of(r), (Ms{8, 10}));
    EXPECT_FALSE(r.more);
    EXPECT_EQ(r.next_after, (sse::EventId{10, 0}));
    // A byte bound stops after the event that reaches it (at least one event per page).
    r = h.after({{0, 0}, {}, 100, 1});
    EXPECT_EQ(ms_of(r), Ms{1});
    EXPECT_TRUE(r.more);
    // Nothing on the topic: nothing is read, and the page says so at once.
    r = h.after({{1, 0}, {pat("none")}, 100, 1 << 20});
    EXPECT_TRUE(r.events.empty());
    EXPECT_FALSE(r.more);
    EXPECT_FALSE(r.lost);
    EXPECT_EQ(r.next_after, (sse::EventId{1, 0}));
}

TEST(MemoryHistory, PagesMergeTopicsInIdOrder) {
    FakeClock clock;
    history::MemoryHistory h(100, 1000, 3600s, clock, {1, 0});
    for (std::uint64_t i = 1; i <= 9; ++i) {
        h.append(ev(clock, i, {i % 3 == 0 ? "c" : i % 3 == 1 ? "a" : "b"}));
    }
    history::ReplayQuery page{{0, kMax}, {pat("a"), pat("b")}, 2, 1 << 20};
    std::vector<Ms> pages;
    for (;;) {
        const auto r = h.after(page);
        pages.push_back(ms_of(r));
        if (!r.more) {
            break;
        }
        page.after = r.next_after;
    }
    EXPECT_EQ(pages, (std::vector<Ms>{{1, 2}, {4, 5}, {7, 8}}));
    page = {{0, kMax}, {pat("a"), pat("b")}, 100, 1};
    const auto r = h.after(page);
    EXPECT_EQ(ms_of(r), Ms{1});
    EXPECT_TRUE(r.more);
}

TEST(MemoryHistory, ALaterPageDoesNotReportTheSameGapAgain) {
    FakeClock clock;
    history::MemoryHistory h(3, 1000, 3600s, clock, {1, 0});
    h.append(ev(clock, 1, {"quiet"}));
    h.append(ev(clock, 2, {"quiet"}));
    for (std::uint64_t i = 3; i <= 8; ++i) {
        h.append(ev(clock, i, {"hot"})); // 3, 4, 5 go
    }
    history::ReplayQuery page{{0, kMax}, {pat("quiet"), pat("hot")}, 1, 1 << 20};
    auto r = h.after(page);
    EXPECT_TRUE(r.lost);
    EXPECT_EQ(ms_of(r), Ms{1});
    EXPECT_EQ(r.lost_through, (sse::EventId{5, 0}));
    page.after = r.next_after;
    EXPECT_TRUE(h.after(page).lost); // below hot's gap: on its own, the same loss again
    page.lost_reported_through = r.lost_through;
    r = h.after(page);
    EXPECT_FALSE(r.lost);
    EXPECT_EQ(ms_of(r), Ms{2});
    // A new eviction past what was reported is a new loss.
    h.append(ev(clock, 9, {"hot"})); // 6 goes
    page.after = r.next_after;
    EXPECT_TRUE(h.after(page).lost);
}

TEST(MemoryHistory, AnIdFromTheFutureIsLostWithTheNewestIdAsFloor) {
    FakeClock clock;
    history::MemoryHistory h(100, 1000, 3600s, clock, {100, 0});
    auto r = h.after(q({100, 0})); // nothing assigned yet at or after the start
    EXPECT_TRUE(r.lost);
    EXPECT_LT(r.next_after, (sse::EventId{100, 0}));
    h.append(ev(clock, 100));
    h.append(ev(clock, 101, {"u"}));
    r = h.after(q({kMax, kMax}));
    EXPECT_TRUE(r.lost);
    EXPECT_TRUE(r.events.empty());
    EXPECT_FALSE(r.more);
    EXPECT_EQ(r.next_after, (sse::EventId{101, 0}));
    // The newest of all topics, not of the subscription's: no new event is skipped.
    r = h.after(q({102, 0}, {pat("t")}));
    EXPECT_TRUE(r.lost);
    EXPECT_EQ(r.next_after, (sse::EventId{101, 0}));
    EXPECT_FALSE(h.after(q({101, 0})).lost); // the newest itself is not from the future
    EXPECT_FALSE(h.after(q({101, 0}, {pat("t")})).lost);
}

TEST(MemoryHistory, TrimWorksInBoundedBatches) {
    FakeClock clock;
    history::MemoryHistory h(10, 100'000, 10s, clock, {1, 0});
    for (std::uint64_t i = 1; i <= 20'000; ++i) {
        h.append(ev(clock, i, {"t" + std::to_string(i)}));
    }
    clock.advance(11s);
    h.trim(); // one call does a bounded batch, not every expired topic at once
    EXPECT_GT(h.size(), 0U);
    EXPECT_LT(h.size(), 20'000U);
    h.trim();
    EXPECT_EQ(h.size(), 0U);
    EXPECT_EQ(h.topic_count(), 20'000U);
    clock.advance(10s);
    h.trim();
    h.trim();
    EXPECT_EQ(h.topic_count(), 0U);
    EXPECT_FALSE(h.after(q({20'000, 0}, {pat("t1")})).lost);
    EXPECT_TRUE(h.after(q({19'999, 0}, {pat("t1")})).lost); // t20000 might have been t1
}
