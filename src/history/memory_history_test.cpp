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
    auto r = h.after({102, 0});
    EXPECT_FALSE(r.lost);
    EXPECT_EQ(ms_of(r), (std::vector<std::uint64_t>{103, 104}));
    EXPECT_TRUE(h.after({104, 0}).events.empty());
    EXPECT_FALSE(h.after({100, 0}).lost);
}

TEST(MemoryHistory, IdsBeforeStartAreLost) {
    FakeClock clock;
    history::MemoryHistory h(10, 3600s, clock, {100, 0});
    h.append(ev(clock, 100));
    EXPECT_TRUE(h.after({99, 5}).lost);
    EXPECT_EQ(h.after({99, 5}).events.size(), 1u);
}

TEST(MemoryHistory, CountBoundEvictsOldestAndReportsLoss) {
    FakeClock clock;
    history::MemoryHistory h(3, 3600s, clock, {1, 0});
    for (std::uint64_t i = 1; i <= 6; ++i) {
        h.append(ev(clock, i));
    }
    EXPECT_EQ(h.size(), 3u);
    EXPECT_FALSE(h.after({3, 0}).lost); // 4,5,6 retained: nothing missed
    auto r = h.after({2, 0});           // 3 was evicted
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
    EXPECT_TRUE(h.after({0, 0}).lost);
    EXPECT_FALSE(h.after({1, 0}).lost);
}
