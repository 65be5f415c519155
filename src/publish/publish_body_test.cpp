// SPDX-License-Identifier: MIT
// The publish body validator: what it accepts, what it refuses and how it names the field.
#include "publish/lossless_json.hpp"
#include "publish/publish_body.hpp"

#include <gtest/gtest.h>

#include <string>

namespace ssecast::publish {
namespace {

std::optional<Refusal> check(std::string_view body, Limits limits = {}) {
    Body b;
    return parse_body(body, limits, b);
}

errc code(std::string_view body, Limits limits = {}) {
    const auto r = check(body, limits);
    return r ? r->code : errc::ok;
}

TEST(PublishBody, SingleEventWithDefaults) {
    Body b;
    ASSERT_FALSE(parse_body(R"({"topic":"orders","data":{"a":[1,2]}})", {}, b));
    ASSERT_EQ(b.drafts.size(), 1u);
    EXPECT_FALSE(b.array);
    EXPECT_EQ(b.drafts[0].type, "message");
    EXPECT_EQ(b.drafts[0].data, R"({"a":[1,2]})");
    EXPECT_EQ(b.drafts[0].topics, std::vector<std::string>{"orders"});
}

TEST(PublishBody, StringDataIsRaw) {
    Body b;
    ASSERT_FALSE(parse_body(
        R"({"topics":["a","b"],"type":"t","data":"line1\nline2","users":["42"]})", {}, b));
    EXPECT_EQ(b.drafts[0].data, "line1\nline2");
    EXPECT_EQ(b.drafts[0].users, std::vector<std::string>{"42"});
}

TEST(PublishBody, ArrayBody) {
    Body b;
    ASSERT_FALSE(parse_body(R"([{"topic":"a","data":1},{"topic":"b","data":2}])", {}, b));
    EXPECT_TRUE(b.array);
    EXPECT_EQ(b.drafts.size(), 2u);
}

TEST(PublishBody, Refusals) {
    EXPECT_EQ(code("{"), errc::bad_json);
    EXPECT_EQ(code("[]"), errc::bad_request);
    EXPECT_EQ(code("42"), errc::bad_request);
    EXPECT_EQ(code(R"({"data":1})"), errc::bad_topic);
    EXPECT_EQ(code(R"({"topics":[],"data":1})"), errc::bad_topic);
    EXPECT_EQ(code(R"({"topic":"a b","data":1})"), errc::bad_topic);
    EXPECT_EQ(code(R"({"topic":"a/*","data":1})"), errc::bad_topic);
    EXPECT_EQ(code(R"({"topic":"a","type":"x\ny","data":1})"), errc::bad_request);
    EXPECT_EQ(code(R"({"topic":"a","type":"","data":1})"), errc::bad_request);
    EXPECT_EQ(code(R"({"topic":"a","type":"x\u001b[31m"})"), errc::bad_request);
    EXPECT_EQ(code(R"({"topic":"a","type":"x\u0085"})"), errc::bad_request);
    EXPECT_EQ(code(R"({"topic":"a","type":"x\u007f"})"), errc::bad_request);
    EXPECT_EQ(code(R"({"topic":"a","id":"5","data":1})"), errc::bad_request);
    EXPECT_EQ(code(R"({"topic":"a","dtaa":1})"), errc::bad_request);
    EXPECT_EQ(code(R"({"topic":"a","data":"0123456789"})", {1024, 5}), errc::payload_too_large);
    EXPECT_EQ(code(R"({"topic":"a","data":"0123456789"})", {10, 1024}), errc::payload_too_large);
}

TEST(PublishBody, AtMostAThousandEvents) {
    auto body = [](std::size_t n) {
        std::string s = "[";
        for (std::size_t i = 0; i < n; ++i) {
            s += std::string(i ? "," : "") + R"({"topic":"a"})";
        }
        return s + "]";
    };
    EXPECT_EQ(code(body(kMaxEventsPerBody)), errc::ok);
    const auto r = check(body(kMaxEventsPerBody + 1));
    ASSERT_TRUE(r);
    EXPECT_EQ(r->message, "expected 1 to 1000 events, got 1001");
}

TEST(PublishBody, RefusalsNameTheField) {
    EXPECT_EQ(check(R"([{"topic":"a"},{"topic":"a","id":"1-0"}])")->message,
              "[1].id: event ids are assigned by the server");
    EXPECT_EQ(check(R"({"topic":"a","extra":1})")->message, "extra: unknown field");
    EXPECT_EQ(check(R"([{"topic":"a"},5])")->message, "[1]: expected an object");
}

TEST(PublishBody, NumbersThatADoubleCannotCarryAreRefused) {
    for (const char* n : {"1e400", "-1e400", "123456789012345678901234567890", "1e-400",
                          "0.1000000000000000000001", "18446744073709551616"}) {
        const auto r = check(std::string(R"({"topic":"a","data":{"x":[)") + n + "]}}");
        ASSERT_TRUE(r) << n;
        EXPECT_EQ(r->code, errc::bad_request) << n;
        EXPECT_EQ(r->message.rfind("data: the number ", 0), 0u) << r->message;
    }
    const auto r = check(R"([{"topic":"a","data":1.5},{"topic":"a","data":[2, 1e999]}])");
    ASSERT_TRUE(r);
    EXPECT_EQ(r->message.rfind("[1].data: the number 1e999 ", 0), 0u) << r->message;
}

TEST(PublishBody, ExactNumbersPassAndKeepTheirValue) {
    Body b;
    ASSERT_FALSE(parse_body(
        R"({"topic":"a","data":[0.1,1.0,1e19,-0.0,9223372036854775807,18446744073709551615,2.5e-3]})",
        {}, b));
    EXPECT_EQ(b.drafts[0].data,
              "[1E-1,1E0,1E19,-0E0,9223372036854775807,18446744073709551615,2.5E-3]");
}

TEST(ExactNumbers, SameDecimal) {
    EXPECT_TRUE(same_decimal("0.1", "1E-1"));
    EXPECT_TRUE(same_decimal("100", "1E2"));
    EXPECT_TRUE(same_decimal("-0.0", "0E0"));
    EXPECT_TRUE(same_decimal("00012.3400e+2", "1.234E3"));
    EXPECT_FALSE(same_decimal("4.9e-324", "5E-324"));
    EXPECT_FALSE(same_decimal("1e400", "Infinity"));
    EXPECT_FALSE(same_decimal("-1", "1E0"));
    EXPECT_FALSE(same_decimal("1e99999999999999999999999", "1E0"));
    EXPECT_FALSE(find_lossy_part(R"({"a":[1,2.5,"1e400"]})"));
    EXPECT_EQ(find_lossy_part(R"([0, {"a":1e400}])")->element, 1u);
}

TEST(PublishBody, AKeyWrittenTwiceIsRefusedNotHalfDropped) {
    // Found by fuzz_publish_body: the DOM kept the second "data", so the first (with a
    // number a double cannot carry) vanished and the body was accepted.
    Body b;
    auto r = parse_body(R"({"topic":"a","data":[1e83],"data":2})", {}, b);
    ASSERT_TRUE(r);
    EXPECT_EQ(r->code, errc::bad_request);
    EXPECT_TRUE(r->message.starts_with(R"(body: the key "data" appears twice in one object )"))
        << r->message;
    r = parse_body(R"([{"topic":"a"},{"topic":"a","data":{"x":{"k":1,"j":2,"k":3}}}])", {}, b);
    ASSERT_TRUE(r);
    EXPECT_TRUE(r->message.starts_with(R"([1].data: the key "k" appears twice in one obj)"))
        << r->message;
    r = parse_body(R"([{"topic":"a","type":"t","type":"u"}])", {}, b);
    ASSERT_TRUE(r);
    EXPECT_TRUE(r->message.starts_with(R"([0]: the key "type" appea)")) << r->message;
    // The same key in sibling or nested objects is not a duplicate; escapes are resolved.
    EXPECT_FALSE(parse_body(R"({"topic":"a","data":[{"k":1},{"k":2,"n":{"k":3}}]})", {}, b));
    r = parse_body(R"({"topic":"a","data":{"k":1,"\u006b":2}})", {}, b);
    ASSERT_TRUE(r);
    EXPECT_TRUE(r->message.starts_with(R"(data: the key "k" app)")) << r->message;
}

TEST(LosslessJson, QuotesALongKeyCutOnACharacterBoundary) {
    const std::string key = std::string(39, 'a') + "\u00e9"; // 'é' is bytes 40-41
    const auto lost = find_lossy_part(R"({"data":{")" + key + R"(":1,")" + key + R"(":2}})");
    ASSERT_TRUE(lost);
    EXPECT_EQ(lost->kind, LossyPart::Kind::duplicate_key);
    EXPECT_EQ(lost->text, std::string(39, 'a'));
}

} // namespace
} // namespace ssecast::publish
