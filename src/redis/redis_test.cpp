// SPDX-License-Identifier: MIT
// Unit tests of the Redis-free parts of src/redis (the rest is covered by
// tests/integration/test_redis_*.py against a real redis-server).
#include "http/publish_request.hpp"
#include "redis/connection.hpp"
#include "redis/event_codec.hpp"
#include "redis/id_check.hpp"
#include "redis/ingest_consumer.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

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

TEST(Transport, FormatIsBinarySafeResp) {
    EXPECT_EQ(Transport::format({"AUTH", "user", "p w\r\n"}),
              "*3\r\n$4\r\nAUTH\r\n$4\r\nuser\r\n$5\r\np w\r\n\r\n");
    EXPECT_EQ(Transport::format({"SET", std::string("a\0b", 3), ""}),
              std::string("*3\r\n$3\r\nSET\r\n$3\r\na\0b\r\n$0\r\n\r\n", 28));
}

TEST(EventCodec, StoredRoundTrip) {
    hub::EventDraft d{{"orders", "a/b"}, "order.updated", "line1\nline2", {"42"}, {}};
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

TEST(EventCodec, StoredEventsFollowThePublishRules) {
    // What anyone can PUBLISH on the channel must not carry what POST /publish refuses.
    EXPECT_FALSE(decode_stored(R"({"type":"x\u001b[2J","topics":["a"],"data":""})"));
    EXPECT_FALSE(decode_stored(R"({"type":"x","topics":["a b"],"data":""})"));
    EXPECT_FALSE(decode_stored(R"({"type":"x","topics":[],"data":""})"));
    EXPECT_TRUE(decode_stored(R"({"type":"x","topics":["a"],"data":""})"));
    EXPECT_FALSE(decode_stored(R"({"type":"x","topics":["a"],"below":["a b"],"data":""})"));
    EXPECT_FALSE(decode_stored(R"({"type":"x","topics":["a"],"below":"b","data":""})"));
}

TEST(EventCodec, ACopyOnAHigherShardKeepsTheTopicsStoredBelowIt) {
    hub::EventDraft d{{"b"}, "t", "x", {}, {"a", "c/1"}};
    const auto text = encode_stored(d, 1);
    auto back = decode_stored(text);
    ASSERT_TRUE(back);
    EXPECT_EQ(back->draft.covered_below, d.covered_below);
    const auto event = to_event({5, 1}, *back, 2);
    EXPECT_EQ(event->shard, 2);
    EXPECT_EQ(event->covered_below, d.covered_below);
    // An ordinary event does not carry the field at all.
    EXPECT_EQ(encode_stored(hub::EventDraft{{"b"}, "t", "x", {}, {}}, 1).find("below"),
              std::string::npos);
}

// SPEC: the ingest list takes exactly what POST /publish takes. Every body goes through both
// ways in, http::parse_publish (as a publish key, which may publish anywhere) and
// check_ingest_item: both must refuse it with the same errc and the same message, or both
// accept it with the same events. The refusals are the ones the two paths once disagreed on
// (#12: control characters in `type`, unknown fields, `id`, the events-per-body cap) and one
// of each other kind. The rules themselves are in publish/publish_body_test.cpp.
TEST(IngestItem, MatchesPublishBodyRules) {
    std::string over_cap = "[";
    for (std::size_t i = 0; i <= publish::kMaxEventsPerBody; ++i) {
        over_cap += (i == 0 ? "" : ",") + std::string(R"({"topic":"t","data":1})");
    }
    over_cap += "]";
    struct Case {
        std::string body;
        bool refused;
    };
    const std::vector<Case> cases = {
        {R"({"topic":"t","type":"a\u001b[31m","data":1})", true}, // ESC
        {R"({"topic":"t","type":"a\u0085b","data":1})", true},    // C1
        {R"({"topic":"t","type":"a\u007f","data":1})", true},     // DEL
        {R"({"topic":"t","type":"a\u0007","data":1})", true},     // BEL
        {R"({"topic":"t","type":"a\nb","data":1})", true},
        {R"({"topic":"t","data":1,"extra":2})", true},
        {R"({"topic":"t","id":"99999999999999-0","data":1})", true},
        {R"([{"topic":"t","data":1},{"topic":"t","id":"1-0"}])", true},
        {over_cap, true},
        {R"({"topic":"t","data":")" + std::string(70'000, 'x') + "\"}", true},
        {R"({"topic":"t","data":1e400})", true},
        {R"({"topic":"t","data":123456789012345678901234567890})", true},
        {R"({"topic":"a b","data":1})", true},
        {R"({"data":1})", true},
        {"{not json", true},
        {"[]", true},
        {R"({"topic":"t","type":"x","data":{"k":[1,2]},"users":["42"]})", false},
        {R"([{"topics":["a","b"],"data":"x"},{"topic":"c"}])", false},
    };
    const publish::Limits limits{};
    auth::Identity publish_key;
    publish_key.publish = std::nullopt; // a publish key: any topic
    for (const auto& c : cases) {
        SCOPED_TRACE(c.body.substr(0, 80));
        http::PublishBatch over_http;
        publish::Body from_ingest;
        const auto h = http::parse_publish(c.body, limits, publish_key, over_http);
        const auto i = check_ingest_item(c.body, limits, from_ingest);
        EXPECT_EQ(h.has_value(), c.refused);
        ASSERT_EQ(i.has_value(), h.has_value());
        if (h) {
            EXPECT_EQ(i->code, h->code);
            EXPECT_EQ(i->message, h->message);
            continue;
        }
        ASSERT_EQ(from_ingest.drafts.size(), over_http.drafts.size());
        for (std::size_t k = 0; k < over_http.drafts.size(); ++k) {
            EXPECT_EQ(from_ingest.drafts[k].type, over_http.drafts[k].type);
            EXPECT_EQ(from_ingest.drafts[k].topics, over_http.drafts[k].topics);
            EXPECT_EQ(from_ingest.drafts[k].users, over_http.drafts[k].users);
            EXPECT_EQ(from_ingest.drafts[k].data, over_http.drafts[k].data);
        }
    }
}

constexpr std::uint64_t kNow = 1'800'000'000'000;

TEST(IdCheck, AcceptsWellFormedIdsUpToAnHourAhead) {
    const auto lead = static_cast<std::uint64_t>(kMaxIdLead.count());
    EXPECT_EQ(check_redis_id("0-0", kNow).verdict, IdVerdict::ok);
    const auto c = check_redis_id("1800000000000-7", kNow);
    EXPECT_EQ(c.verdict, IdVerdict::ok);
    EXPECT_EQ(c.id, (sse::EventId{kNow, 7}));
    EXPECT_EQ(check_redis_id(std::to_string(kNow + lead) + "-0", kNow).verdict, IdVerdict::ok);
    EXPECT_EQ(check_redis_id(std::to_string(kNow + lead + 1) + "-0", kNow).verdict,
              IdVerdict::ahead);
    EXPECT_EQ(check_redis_id("1-9007199254740991", kNow).verdict, IdVerdict::ok);
}

TEST(IdCheck, RefusesThePoisonOfIssue12AndOtherShapes) {
    EXPECT_EQ(check_redis_id("18446744073709551615-18446744073709551615", kNow).verdict,
              IdVerdict::malformed); // seq over 2^53 - 1
    EXPECT_EQ(check_redis_id("18446744073709551615-0", kNow).verdict, IdVerdict::ahead);
    for (const char* bad : {"", "-", "5", "5-", "-5", "+5-1", "5-+1", "1-2-3", "1 -2", "a-1",
                            "1-9007199254740992", "18446744073709551616-0", "0x1-0"}) {
        EXPECT_EQ(check_redis_id(bad, kNow).verdict, IdVerdict::malformed) << bad;
    }
}

TEST(IdCheck, ChannelMessage) {
    auto m = parse_channel_message("1800000000000-1 {\"a\":1}", kNow);
    EXPECT_EQ(m.id.verdict, IdVerdict::ok);
    EXPECT_EQ(m.body, "{\"a\":1}");
    EXPECT_EQ(parse_channel_message("1800000000000-1", kNow).id.verdict, IdVerdict::malformed);
    m = parse_channel_message("18446744073709551615-18446744073709551615 {}", kNow);
    EXPECT_EQ(m.id.verdict, IdVerdict::malformed);
    EXPECT_TRUE(m.body.empty());
}

} // namespace
} // namespace ssecast::redis
