// SPDX-License-Identifier: MIT
// parse_listen, parse_redis_url and is_valid_cidr on good and bad input.
#include "config/endpoints.hpp"

#include <gtest/gtest.h>

namespace ssecast::config {
namespace {

TEST(ParseListen, AcceptedForms) {
    auto r = parse_listen("127.0.0.1:8080");
    ASSERT_TRUE(r);
    EXPECT_EQ(r->first, "127.0.0.1");
    EXPECT_EQ(r->second, 8080);
    r = parse_listen("[::1]:9000");
    ASSERT_TRUE(r);
    EXPECT_EQ(r->first, "::1");
    EXPECT_EQ(r->second, 9000);
    r = parse_listen(":8080");
    ASSERT_TRUE(r);
    EXPECT_EQ(r->first, "0.0.0.0");
    r = parse_listen("localhost:0");
    ASSERT_TRUE(r);
    EXPECT_EQ(r->first, "localhost");
    EXPECT_EQ(r->second, 0);
}

TEST(ParseListen, Rejected) {
    for (const char* bad : {"", "8080", "127.0.0.1", "127.0.0.1:", "127.0.0.1:65536", "::1:80",
                            "[::1]80", "[::1", "[nope]:1", "a b:1", "h:-1", "h:8o"}) {
        EXPECT_FALSE(parse_listen(bad)) << bad;
        EXPECT_EQ(parse_listen(bad).error(), errc::bad_request) << bad;
    }
}

TEST(ParseRedisUrl, AcceptedForms) {
    auto r = parse_redis_url("redis://127.0.0.1:6380/3");
    ASSERT_TRUE(r);
    EXPECT_EQ(r->host, "127.0.0.1");
    EXPECT_EQ(r->port, 6380);
    EXPECT_EQ(r->db, 3U);
    r = parse_redis_url("redis://cache");
    ASSERT_TRUE(r);
    EXPECT_EQ(r->host, "cache");
    EXPECT_EQ(r->port, 6379);
    EXPECT_EQ(r->db, 0U);
    r = parse_redis_url("redis://[::1]:7000");
    ASSERT_TRUE(r);
    EXPECT_EQ(r->host, "::1");
    EXPECT_EQ(r->port, 7000);
}

TEST(ParseRedisUrl, Rejected) {
    for (const char* bad : {"", "127.0.0.1:6379", "rediss://h:1", "http://h:1", "redis://",
                            "redis://:6379", "redis://u:p@h:1", "redis://h:0", "redis://h:70000",
                            "redis://h:1/x", "redis://h:1/", "redis://h:1?db=2", "redis://::1:1"}) {
        EXPECT_FALSE(parse_redis_url(bad)) << bad;
    }
}

TEST(ParseHttpUrl, SchemesPortsTargets) {
    const auto a = parse_http_url("http://127.0.0.1:8081/.well-known/jwks.json?x=1").value();
    EXPECT_EQ(a.host, "127.0.0.1");
    EXPECT_EQ(a.port, 8081);
    EXPECT_EQ(a.target, "/.well-known/jwks.json?x=1");
    EXPECT_FALSE(a.tls);
    const auto b = parse_http_url("https://login.example.com").value();
    EXPECT_EQ(b.host, "login.example.com");
    EXPECT_EQ(b.port, 443);
    EXPECT_EQ(b.target, "/");
    EXPECT_TRUE(b.tls);
    const auto c = parse_http_url("http://[::1]?q").value();
    EXPECT_EQ(c.host, "::1");
    EXPECT_EQ(c.port, 80);
    EXPECT_EQ(c.target, "/?q");
    for (const char* bad :
         {"", "ftp://h/", "http://", "http:///x", "http://u:p@h/", "http://h:0/", "http://h:70000",
          "http://h/a b", "http://h/#frag", "http://h/\r\nX: y", "https://h:x/", "redis://h:1"}) {
        EXPECT_FALSE(parse_http_url(bad)) << bad;
    }
}

TEST(IsValidCidr, AddressesAndBlocks) {
    for (const char* good :
         {"10.0.0.0/8", "192.168.1.7", "0.0.0.0/0", "::1", "fd00::/8", "::/0", "2001:db8::/128"}) {
        EXPECT_TRUE(is_valid_cidr(good)) << good;
    }
    for (const char* bad : {"", "10.0.0.0/33", "::1/129", "10.0.0.0/", "10.0.0/8", "host",
                            "10.0.0.0/8/8", "10.0.0.0/-1", "1.2.3.4 "}) {
        EXPECT_FALSE(is_valid_cidr(bad)) << bad;
    }
}

} // namespace
} // namespace ssecast::config
