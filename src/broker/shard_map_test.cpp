// SPDX-License-Identifier: MIT
#include "broker/shard_map.hpp"

#include <gtest/gtest.h>

#include <map>
#include <string>

namespace ssecast::broker {
namespace {

hub::TopicPattern pattern(std::string_view text) {
    return *hub::TopicPattern::parse(text);
}

TEST(ShardMap, HashesAreTheDocumentedOnes) {
    // FNV-1a 64 reference values: a change here moves topics to other shards on upgrade.
    EXPECT_EQ(ShardMap::fnv1a64(""), 14695981039346656037ULL);
    EXPECT_EQ(ShardMap::fnv1a64("a"), 0xaf63dc4c8601ec8cULL);
    EXPECT_EQ(ShardMap::fnv1a64("foobar"), 0x85944171f73967e8ULL);
    for (std::uint64_t key : {0ULL, 1ULL, 0xdeadbeefULL}) {
        EXPECT_EQ(ShardMap::jump(key, 1), 0U);
    }
    // Pinned: where these shard keys live with 3 shards must never change.
    const ShardMap three(3);
    std::string got;
    for (const char* t : {"orders", "users", "chat", "news", "a", "b"}) {
        got += std::to_string(three.of_topic(t));
    }
    EXPECT_EQ(got, "010220");
}

TEST(ShardMap, ShardKeyIsTheNameUpToTheFirstSlash) {
    EXPECT_EQ(ShardMap::shard_key("orders/eu/1"), "orders");
    EXPECT_EQ(ShardMap::shard_key("orders"), "orders");
    const ShardMap map(5);
    for (const char* t : {"orders/1", "orders/eu/7", "orders"}) {
        EXPECT_EQ(map.of_topic(t), map.of_topic("orders")) << t;
    }
}

TEST(ShardMap, APrefixLivesOnItsTopicsShardAndStarOnAll) {
    const ShardMap map(4);
    EXPECT_EQ(map.of_pattern(pattern("orders/*")),
              std::vector<std::size_t>{map.of_topic("orders")});
    EXPECT_EQ(map.of_pattern(pattern("orders/eu/*")),
              std::vector<std::size_t>{map.of_topic("orders")});
    EXPECT_EQ(map.of_pattern(pattern("*")), (std::vector<std::size_t>{0, 1, 2, 3}));
    const auto both =
        map.of_patterns({pattern("orders/1"), pattern("orders/*"), pattern("orders")});
    EXPECT_EQ(both.size(), 1U);
}

TEST(ShardMap, SpreadsKeysEvenlyAndMovesFewWhenAShardIsAdded) {
    constexpr int kKeys = 6000;
    for (std::size_t n = 1; n <= 4; ++n) {
        const ShardMap before(n);
        const ShardMap after(n + 1);
        std::map<std::size_t, int> counts;
        int moved = 0;
        for (int i = 0; i < kKeys; ++i) {
            const std::string key = "topic" + std::to_string(i);
            const auto a = before.of_topic(key);
            const auto b = after.of_topic(key);
            ASSERT_LT(a, n);
            ++counts[b];
            if (a != b) {
                EXPECT_EQ(b, n) << key << ": a key only ever moves to the new shard";
                ++moved;
            }
        }
        // About kKeys/(n+1) move; each shard holds about kKeys/(n+1).
        const double share = static_cast<double>(kKeys) / static_cast<double>(n + 1);
        EXPECT_NEAR(moved, share, share * 0.15) << n << " -> " << n + 1;
        for (const auto& [shard, c] : counts) {
            EXPECT_NEAR(c, share, share * 0.15) << "shard " << shard << " of " << n + 1;
        }
    }
}

} // namespace
} // namespace ssecast::broker
