// SPDX-License-Identifier: MIT
// History bounds, replay ranges and history-lost detection.
#include "history/memory_history.hpp"

#include <gtest/gtest.h>

using namespace ssecast;
using namespace std::chrono_literals;

namespace {
hub::EventPtr ev(const FakeClock& clock, std::uint64_t ms) {
    hub::EventDraft d;
    d.topics = {"t"};
    return hub::make_event({ms, 0}, d, clock.system_now(), clock.steady_now());
}
history::ReplayQuery q(sse::EventId after) {
    return history::ReplayQuery{after, {}, 1000, 1 << 20};
}
std::vector<std::uint64_t> ms_of(const history::Replay& r) {
    std::vector<std::uint64_t> out;
    for (const auto& e : r.events) {
        out.push_back(e->id.ms);
    }
    return out;
}
} // namespace

TEST(MemoryHistory, ReplaysEverythingAfterTheId) {
    FakeClock clock;
    history::MemoryHistory h(10, 3600s, clock, {100, 0});
    for (std::uint64_t i = 100; i < 105; ++i) {
        h.append(ev(clock, i));
    }
    auto r = h.after(q({102, 0}));
    EXPECT_FALSE(r.lost);
    EXPECT_EQ(ms_of(r), (std::vector<std::uint64_t>{103, 104}));
    EXPECT_TRUE(h.after(q({104, 0})).events.empty());
    EXPECT_FALSE(h.after(q({100, 0})).lost);
}

TEST(MemoryHistory, IdsBeforeStartAreLost) {
    FakeClock clock;
    history::MemoryHistory h(10, 3600s, clock, {100, 0});
    h.append(ev(clock, 100));
    EXPECT_TRUE(h.after(q({99, 5})).lost);
    EXPECT_EQ(h.after(q({99, 5})).events.size(), 1u);
}

TEST(MemoryHistory, CountBoundEvictsOldestAndReportsLoss) {
    FakeClock clock;
    history::MemoryHistory h(3, 3600s, clock, {1, 0});
    for (std::uint64_t i = 1; i <= 6; ++i) {
        h.append(ev(clock, i));
    }
    EXPECT_EQ(h.size(), 3u);
    EXPECT_FALSE(h.after(q({3, 0})).lost); // 4,5,6 retained: nothing missed
    auto r = h.after(q({2, 0}));           // 3 was evicted
    EXPECT_TRUE(r.lost);
    EXPECT_EQ(ms_of(r), (std::vector<std::uint64_t>{4, 5, 6}));
}

TEST(MemoryHistory, AgeBoundExpires) {
    FakeClock clock;
    history::MemoryHistory h(100, 10s, clock, {1, 0});
    h.append(ev(clock, 1));
    clock.advance(6s);
    h.append(ev(clock, 2));
    clock.advance(5s);
    h.trim();
    EXPECT_EQ(h.size(), 1u);
    EXPECT_TRUE(h.after(q({0, 0})).lost);
    EXPECT_FALSE(h.after(q({1, 0})).lost);
}

TEST(MemoryHistory, PagesAreBoundedAndSayWhereToGoOn) {
    FakeClock clock;
    history::MemoryHistory h(100, 3600s, clock, {1, 0});
    for (std::uint64_t i = 1; i <= 10; ++i) {
        hub::EventDraft d;
        d.topics = {i % 2 == 0 ? "even" : "odd"};
        h.append(hub::make_event({i, 0}, d, clock.system_now(), clock.steady_now()));
    }
    auto even = *hub::TopicPattern::parse("even");
    // At most 3 looked at: 2, 3, 4 → the even ones of them.
    auto r = h.after({{1, 0}, {even}, 3, 1 << 20});
    EXPECT_EQ(ms_of(r), (std::vector<std::uint64_t>{2, 4}));
    EXPECT_TRUE(r.more);
    EXPECT_EQ(r.next_after, (sse::EventId{4, 0}));
    r = h.after({r.next_after, {even}, 100, 1 << 20});
    EXPECT_EQ(ms_of(r), (std::vector<std::uint64_t>{6, 8, 10}));
    EXPECT_FALSE(r.more);
    EXPECT_EQ(r.next_after, (sse::EventId{10, 0}));
    // A byte bound stops after the event that reaches it (at least one event per page).
    r = h.after({{0, 0}, {}, 100, 1});
    EXPECT_EQ(ms_of(r), std::vector<std::uint64_t>{1});
    EXPECT_TRUE(r.more);
    // Nothing on the topic: the whole history is looked at in pages, none of it returned.
    auto none = *hub::TopicPattern::parse("none");
    r = h.after({{1, 0}, {none}, 100, 1 << 20});
    EXPECT_TRUE(r.events.empty());
    EXPECT_EQ(r.next_after, (sse::EventId{10, 0}));
}

TEST(MemoryHistory, AnIdFromTheFutureIsLostWithTheNewestIdAsFloor) {
    FakeClock clock;
    history::MemoryHistory h(100, 3600s, clock, {100, 0});
    auto r = h.after(q({100, 0})); // nothing assigned yet at or after the start
    EXPECT_TRUE(r.lost);
    EXPECT_LT(r.next_after, (sse::EventId{100, 0}));
    h.append(ev(clock, 100));
    h.append(ev(clock, 101));
    r = h.after(q({~std::uint64_t{0}, ~std::uint64_t{0}}));
    EXPECT_TRUE(r.lost);
    EXPECT_TRUE(r.events.empty());
    EXPECT_FALSE(r.more);
    EXPECT_EQ(r.next_after, (sse::EventId{101, 0}));
    EXPECT_FALSE(h.after(q({101, 0})).lost); // the newest itself is not from the future
}
