// SPDX-License-Identifier: MIT
// The +switch-master message parser (the rest of Sentinel runs against real sentinels in
// tests/integration/test_redis_sentinel.py).
#include "redis/sentinel.hpp"

#include <gtest/gtest.h>

namespace ssecast::redis {
namespace {

TEST(ParseSwitchMaster, TakesTheNewAddressOfOurMaster) {
    const auto to = parse_switch_master("mymaster 10.0.0.1 6379 10.0.0.2 6380", "mymaster");
    ASSERT_TRUE(to);
    EXPECT_EQ(*to, (config::HostPort{"10.0.0.2", 6380}));
}

TEST(ParseSwitchMaster, IgnoresOtherMastersAndMalformedMessages) {
    EXPECT_FALSE(parse_switch_master("other 10.0.0.1 6379 10.0.0.2 6380", "mymaster"));
    EXPECT_FALSE(parse_switch_master("mymaster-2 a 1 b 2", "mymaster"));
    for (const char* bad :
         {"", "mymaster", "mymaster 10.0.0.1 6379 10.0.0.2", "mymaster 10.0.0.1 6379 10.0.0.2 0",
          "mymaster a 1 b 65536", "mymaster a 1 b 2x", "mymaster a 1 b 2 extra"}) {
        EXPECT_FALSE(parse_switch_master(bad, "mymaster")) << bad;
    }
}

} // namespace
} // namespace ssecast::redis
