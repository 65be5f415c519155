// SPDX-License-Identifier: MIT
// HTTP-layer pure functions: query decoding, client IP resolution, publish validation.
#include "http/client_ip.hpp"
#include "http/publish_request.hpp"
#include "http/request.hpp"

#include <gtest/gtest.h>

using namespace ssecast;
using namespace ssecast::http;
namespace ip = boost::asio::ip;

TEST(Query, DecodesRepeatedAndEscapedParameters) {
    Request req;
    req.query = parse_query("topic=a&topic=b%2F%2A&x=1+2&flag&=v&bad=%zz");
    EXPECT_EQ(req.params("topic").size(), 2u);
    EXPECT_EQ(req.params("topic")[1], "b/*");
    EXPECT_EQ(req.param("x"), "1 2");
    EXPECT_EQ(req.param("flag"), "");
    EXPECT_EQ(req.param("bad"), "%zz");
    EXPECT_EQ(req.param("missing"), "");
}

TEST(ClientIp, ForwardedHeadersIgnoredFromUntrustedPeer) {
    auto proxies = TrustedProxies::parse({"10.0.0.0/8"}).value();
    EXPECT_EQ(resolve_client_ip(ip::make_address("203.0.113.9"), "1.2.3.4", "", proxies),
              "203.0.113.9");
}

TEST(ClientIp, TrustedProxyChainYieldsRightMostUntrustedHop) {
    auto proxies = TrustedProxies::parse({"10.0.0.0/8", "::1"}).value();
    EXPECT_EQ(
        resolve_client_ip(ip::make_address("10.1.2.3"), "6.6.6.6, 1.2.3.4, 10.9.9.9", "", proxies),
        "1.2.3.4");
    EXPECT_EQ(resolve_client_ip(ip::make_address("::1"), "", "for=\"[2001:db8::1]:4711\"", proxies),
              "2001:db8::1");
    EXPECT_EQ(resolve_client_ip(ip::make_address("10.1.2.3"), "garbage", "", proxies), "10.1.2.3");
    EXPECT_EQ(resolve_client_ip(ip::make_address("10.1.2.3"), "", "", proxies), "10.1.2.3");
}

TEST(ClientIp, RejectsBadCidrs) {
    EXPECT_FALSE(TrustedProxies::parse({"10.0.0.0/33"}));
    EXPECT_FALSE(TrustedProxies::parse({"nonsense"}));
    EXPECT_TRUE(TrustedProxies::parse({"127.0.0.1", "fd00::/8"}));
}

namespace {
auth::Identity publisher() {
    auth::Identity who;
    who.publish = std::nullopt; // a publish key: anywhere
    return who;
}
} // namespace

TEST(PublishRequest, SingleEventWithDefaults) {
    PublishBatch b;
    ASSERT_FALSE(parse_publish(R"({"topic":"orders","data":{"a":[1,2]}})", 1024, publisher(), b));
    ASSERT_EQ(b.drafts.size(), 1u);
    EXPECT_FALSE(b.array);
    EXPECT_EQ(b.drafts[0].type, "message");
    EXPECT_EQ(b.drafts[0].data, R"({"a":[1,2]})");
    EXPECT_EQ(b.drafts[0].topics, std::vector<std::string>{"orders"});
}

TEST(PublishRequest, StringDataIsRaw) {
    PublishBatch b;
    ASSERT_FALSE(
        parse_publish(R"({"topics":["a","b"],"type":"t","data":"line1\nline2","users":["42"]})",
                      1024, publisher(), b));
    EXPECT_EQ(b.drafts[0].data, "line1\nline2");
    EXPECT_EQ(b.drafts[0].users, std::vector<std::string>{"42"});
}

TEST(PublishRequest, ArrayBody) {
    PublishBatch b;
    ASSERT_FALSE(
        parse_publish(R"([{"topic":"a","data":1},{"topic":"b","data":2}])", 1024, publisher(), b));
    EXPECT_TRUE(b.array);
    EXPECT_EQ(b.drafts.size(), 2u);
}

TEST(PublishRequest, Rejections) {
    auto code = [](std::string_view body, std::size_t max = 1024) {
        PublishBatch b;
        auto f = parse_publish(body, max, publisher(), b);
        return f ? f->code : errc::ok;
    };
    EXPECT_EQ(code("{"), errc::bad_json);
    EXPECT_EQ(code("[]"), errc::bad_request);
    EXPECT_EQ(code("42"), errc::bad_request);
    EXPECT_EQ(code(R"({"data":1})"), errc::bad_topic);
    EXPECT_EQ(code(R"({"topics":[],"data":1})"), errc::bad_topic);
    EXPECT_EQ(code(R"({"topic":"a b","data":1})"), errc::bad_topic);
    EXPECT_EQ(code(R"({"topic":"a/*","data":1})"), errc::bad_topic);
    EXPECT_EQ(code(R"({"topic":"a","type":"x\ny","data":1})"), errc::bad_request);
    EXPECT_EQ(code(R"({"topic":"a","type":"","data":1})"), errc::bad_request);
    EXPECT_EQ(code(R"({"topic":"a","id":"5","data":1})"), errc::bad_request);
    EXPECT_EQ(code(R"({"topic":"a","dtaa":1})"), errc::bad_request);
    EXPECT_EQ(code(R"({"topic":"a","data":"0123456789"})", 5), errc::payload_too_large);
}

TEST(PublishRequest, PublishClaimIsEnforced) {
    auth::Identity who;
    who.publish = std::vector<hub::TopicPattern>{hub::TopicPattern::parse("orders/*").value()};
    PublishBatch ok;
    EXPECT_FALSE(parse_publish(R"({"topic":"orders/1","data":1})", 1024, who, ok));
    PublishBatch no;
    auto f = parse_publish(R"({"topics":["orders/1","users/2"],"data":1})", 1024, who, no);
    ASSERT_TRUE(f);
    EXPECT_EQ(f->code, errc::forbidden);
}
