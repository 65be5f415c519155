// SPDX-License-Identifier: MIT
// EventQueue: FIFO order across compactions, and no buffer kept once empty.
#include "history/event_queue.hpp"

#include <gtest/gtest.h>

#include <chrono>

using namespace ssecast;

namespace {
hub::EventPtr ev(std::uint64_t ms) {
    return hub::make_event({ms, 0}, hub::EventDraft{}, {}, {});
}
} // namespace

TEST(EventQueue, StaysInOrderAcrossCompactions) {
    history::EventQueue q;
    std::uint64_t next_in = 0;
    std::uint64_t next_out = 0;
    for (int round = 0; round < 50; ++round) {
        for (int i = 0; i < 37; ++i) {
            q.push_back(ev(next_in++));
        }
        for (int i = 0; i < 30; ++i) {
            ASSERT_EQ(q.pop_front()->id.ms, next_out++);
        }
        ASSERT_EQ(q.size(), next_in - next_out);
        ASSERT_EQ(q.front()->id.ms, next_out);
        ASSERT_EQ(q.back()->id.ms, next_in - 1);
        std::uint64_t expect = next_out;
        for (const auto& e : q) {
            ASSERT_EQ(e->id.ms, expect++);
        }
    }
    while (!q.empty()) {
        ASSERT_EQ(q.pop_front()->id.ms, next_out++);
    }
    EXPECT_EQ(next_out, next_in);
    EXPECT_EQ(q.begin(), q.end());
    q.push_back(ev(7)); // usable again after its buffer was given back
    EXPECT_EQ(q.size(), 1U);
    EXPECT_EQ(q.front()->id.ms, 7U);
}
