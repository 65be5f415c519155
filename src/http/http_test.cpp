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

// The body format itself is tested in publish/publish_body_test.cpp (one validator).
TEST(PublishRequest, PublishClaimIsEnforced) {
    auth::Identity who;
    who.publish = std::vector<hub::TopicPattern>{hub::TopicPattern::parse("orders/*").value()};
    PublishBatch ok;
    EXPECT_FALSE(parse_publish(R"({"topic":"orders/1","data":1})", {}, who, ok));
    PublishBatch no;
    auto f = parse_publish(R"({"topics":["orders/1","users/2"],"data":1})", {}, who, no);
    ASSERT_TRUE(f);
    EXPECT_EQ(f->code, errc::forbidden);
    EXPECT_EQ(f->message, "topics[1]: not allowed to publish to 'users/2'");
    PublishBatch arr;
    f = parse_publish(R"([{"topic":"orders/1"},{"topic":"users/2"}])", {}, who, arr);
    ASSERT_TRUE(f);
    EXPECT_EQ(f->message, "[1].topics[0]: not allowed to publish to 'users/2'");
}
