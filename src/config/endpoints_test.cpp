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
    for (const char* bad : {"", "127.0.0.1:6379", "http://h:1", "redis://", "redis://:6379",
                            "redis://h:0", "redis://h:70000", "redis://h:1/x", "redis://h:1/",
                            "redis://h:1?db=2", "redis://::1:1"}) {
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

TEST(ParseRedisUrl, Tls) {
    auto r = parse_redis_url("rediss://:pw@redis.example.com:6380/1");
    ASSERT_TRUE(r);
    EXPECT_TRUE(r->tls);
    EXPECT_EQ(r->host, "redis.example.com");
    EXPECT_EQ(r->password, "pw");
    EXPECT_FALSE(parse_redis_url("redis://h")->tls);
    EXPECT_FALSE(parse_redis_url("redisss://h"));
    EXPECT_EQ(redact_redis_url("rediss://u:pw@h"), "rediss://u:***@h");
}

TEST(ParseRedisUrl, Credentials) {
    auto r = parse_redis_url("redis://:s3cret@h:6380/2");
    ASSERT_TRUE(r);
    EXPECT_EQ(r->username, "");
    EXPECT_EQ(r->password, "s3cret");
    EXPECT_EQ(r->host, "h");
    EXPECT_EQ(r->port, 6380);
    EXPECT_EQ(r->db, 2U);
    r = parse_redis_url("redis://app%2D1:p%40ss%3Aw%2Fo%25rd@[::1]:7000");
    ASSERT_TRUE(r);
    EXPECT_EQ(r->username, "app-1");
    EXPECT_EQ(r->password, "p@ss:w/o%rd");
    EXPECT_EQ(r->host, "::1");
    EXPECT_EQ(r->port, 7000);
    r = parse_redis_url("redis://app:a:b@h"); // ':' may stay raw inside the password
    ASSERT_TRUE(r);
    EXPECT_EQ(r->password, "a:b");
    r = parse_redis_url("redis://app@h"); // a user whose password is set elsewhere
    ASSERT_TRUE(r);
    EXPECT_EQ(r->username, "app");
    EXPECT_EQ(r->password, "");
    for (const char* bad :
         {"redis://@h", "redis://:@h", "redis://u:p@ss@h", "redis://u:p%zz@h", "redis://u:p/q@h",
          "redis://u:p@", "redis://u:p@h:x", "redis://u:p#q@h", "redis://u:p?q@h"}) {
        EXPECT_FALSE(parse_redis_url(bad)) << bad;
    }
}

TEST(ParseRedisUrl, Sentinel) {
    auto r = parse_redis_url("redis+sentinel://app:p%40w@10.0.0.1:5000,s2,[::1]:26380/mymaster/3");
    ASSERT_TRUE(r);
    EXPECT_EQ(r->username, "app");
    EXPECT_EQ(r->password, "p@w");
    ASSERT_EQ(r->sentinels.size(), 3U);
    EXPECT_EQ(r->sentinels[0], (HostPort{"10.0.0.1", 5000}));
    EXPECT_EQ(r->sentinels[1], (HostPort{"s2", 26379}));
    EXPECT_EQ(r->sentinels[2], (HostPort{"::1", 26380}));
    EXPECT_EQ(r->master, "mymaster");
    EXPECT_EQ(r->db, 3U);
    EXPECT_EQ(r->host, ""); // until the sentinels name the master
    EXPECT_FALSE(r->tls);
    r = parse_redis_url("redis+sentinel://127.0.0.1/m");
    ASSERT_TRUE(r);
    EXPECT_EQ(r->db, 0U);
    EXPECT_TRUE(r->password.empty());
    EXPECT_EQ(r->sentinels, (std::vector<HostPort>{{"127.0.0.1", 26379}}));
    EXPECT_TRUE(parse_redis_url("redis://h")->sentinels.empty());
    for (const char* bad :
         {"redis+sentinel://h", "redis+sentinel://h/", "redis+sentinel://h:0/m",
          "redis+sentinel://h,/m", "redis+sentinel://,h/m", "redis+sentinel://h/m/x",
          "redis+sentinel://h/m y", "redis+sentinel://h/m/1/2", "redis+sentinel://@h/m",
          "redis+sentinels://h/m", "redis+sentinel://h:1:2/m"}) {
        EXPECT_FALSE(parse_redis_url(bad)) << bad;
    }
    EXPECT_EQ(redact_redis_url("redis+sentinel://u:pw@a,b/m"), "redis+sentinel://u:***@a,b/m");
}

TEST(RedactRedisUrl, HidesEveryPassword) {
    EXPECT_EQ(redact_redis_url("redis://h:1/2"), "redis://h:1/2");
    EXPECT_EQ(redact_redis_url("redis://:pw@h:1/2"), "redis://:***@h:1/2");
    EXPECT_EQ(redact_redis_url("redis://app:pw@h"), "redis://app:***@h");
    EXPECT_EQ(redact_redis_url("redis://pw@h"), "redis://***@h");
    // Malformed URLs too: everything up to the last '@' is userinfo.
    EXPECT_EQ(redact_redis_url("redis://app:p@ss/w@h:99999"), "redis://app:***@h:99999");
    EXPECT_EQ(redact_redis_url("nonsense://:pw@"), "nonsense://:***@");
    EXPECT_EQ(redact_redis_url("no scheme pw@h"), "no scheme pw@h");
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
