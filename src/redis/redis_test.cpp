// SPDX-License-Identifier: MIT
// Unit tests of the Redis-free parts of src/redis (the rest is covered by
// tests/integration/test_redis_*.py against a real redis-server).
#include "redis/connection.hpp"
#include "redis/event_codec.hpp"

#include <gtest/gtest.h>

namespace ssecast::redis {
namespace {

using namespace std::chrono_literals;

TEST(Backoff, StaysWithinFullJitterBoundsAndCap) {
    std::minstd_rand rng(42);
    for (unsigned attempt = 0; attempt < 40; ++attempt) {
        for (int i = 0; i < 50; ++i) {
            const auto d = backoff_delay(attempt, 100ms, 5000ms, rng);
            EXPECT_GE(d, 50ms);
            EXPECT_LE(d,
                      std::min(5000ms, std::chrono::milliseconds(100LL << std::min(attempt, 16u))));
        }
    }
}

TEST(EventCodec, StoredRoundTrip) {
    hub::EventDraft d{{"orders", "a/b"}, "order.updated", "line1\nline2", {"42"}};
    auto back = decode_stored(encode_stored(d, 1700000000123));
    ASSERT_TRUE(back);
    EXPECT_EQ(back->draft.topics, d.topics);
    EXPECT_EQ(back->draft.type, d.type);
    EXPECT_EQ(back->draft.data, d.data);
    EXPECT_EQ(back->draft.users, d.users);
    EXPECT_EQ(back->published_ms, 1700000000123u);
    EXPECT_FALSE(decode_stored("not json"));
    EXPECT_FALSE(decode_stored(R"({"type":"x"})"));
}

TEST(EventCodec, IngestMatchesPublishBodyRules) {
    auto one = parse_ingest(R"({"topic":"orders","data":{"a":1}})", 1024);
    ASSERT_TRUE(one);
    ASSERT_EQ(one->size(), 1u);
    EXPECT_EQ((*one)[0].type, "message");
    EXPECT_EQ((*one)[0].data, R"({"a":1})");
    auto many =
        parse_ingest(R"([{"topics":["a","b"],"type":"t","data":"raw"},{"topic":"c"}])", 1024);
    ASSERT_TRUE(many);
    EXPECT_EQ(many->size(), 2u);
    EXPECT_EQ((*many)[0].data, "raw");
    EXPECT_EQ(parse_ingest("{", 10).error(), make_error_code(errc::bad_json));
    EXPECT_EQ(parse_ingest(R"({"data":1})", 10).error(), make_error_code(errc::bad_topic));
    EXPECT_EQ(parse_ingest(R"({"topic":"bad topic"})", 10).error(),
              make_error_code(errc::bad_topic));
    EXPECT_EQ(parse_ingest(R"({"topic":"a","type":"x\ny"})", 10).error(),
              make_error_code(errc::bad_request));
    EXPECT_EQ(parse_ingest(R"({"topic":"a","data":"0123456789A"})", 10).error(),
              make_error_code(errc::payload_too_large));
    EXPECT_EQ(parse_ingest("[]", 10).error(), make_error_code(errc::bad_request));
}

} // namespace
} // namespace ssecast::redis
