// SPDX-License-Identifier: MIT
// Composite ids of streams over several shards: the form, what is refused, round trips.
#include "sse/encoder.hpp"
#include "sse/shard_positions.hpp"

#include <gtest/gtest.h>

using namespace ssecast::sse;

TEST(ShardPositions, ParsesEntriesInShardOrder) {
    const auto p = ShardPositions::parse("0:1796314819398-0,2:1796314819400-3");
    ASSERT_TRUE(p);
    EXPECT_EQ(p->at(0), (EventId{1796314819398, 0}));
    EXPECT_EQ(p->at(2), (EventId{1796314819400, 3}));
    EXPECT_FALSE(p->at(1));
    EXPECT_EQ(p->str(), "0:1796314819398-0,2:1796314819400-3");
}

TEST(ShardPositions, RefusesPlainIdsAndMalformedEntries) {
    for (const char* bad :
         {"", "1796314819398-0", "1796314819398", ",", "0:1-0,", ",0:1-0", "0:1-0,,1:2-0", ":1-0",
          "a:1-0", "0:", "0:x", "0:1-0,0:2-0", "1:1-0,0:2-0", "64:1-0", "-1:1-0", "0:1-0;1:2-0",
          "0 :1-0", "99999999999999999999:1-0", "0:1-0-0"}) {
        EXPECT_FALSE(ShardPositions::parse(bad)) << bad;
    }
}

TEST(ShardPositions, SetKeepsShardOrderAndReplaces) {
    ShardPositions p;
    EXPECT_TRUE(p.empty());
    p.set(2, EventId{5, 0});
    p.set(0, EventId{7, 1});
    p.set(2, EventId{9, 4});
    EXPECT_EQ(p.str(), "0:7-1,2:9-4");
    const auto back = ShardPositions::parse(p.str());
    ASSERT_TRUE(back);
    EXPECT_EQ(back->str(), p.str());
}

TEST(Encoder, IdLineSizeIsTheLeadingIdField) {
    const std::string frame = encode_event("12-3", "t", "x");
    EXPECT_EQ(id_line_size(frame), std::string("id: 12-3\n").size());
    EXPECT_EQ(id_line_size(encode_event("", "t", "x")), 0U);
    EXPECT_EQ(id_line_size(": ping\n\n"), 0U);
}
