// SPDX-License-Identifier: MIT
// Authenticator: JWT checks (alg, signature, exp, claims), token sources and precedence,
// anonymous access, publish keys, admin access, topic permissions, mint round trip.
#include "auth/authenticator.hpp"
#include "auth/test_signing_keys.hpp"

#include "auth/jwt.hpp"

#include <boost/json/parse.hpp>

#include <gtest/gtest.h>
#include <jwt.h>

#include <cstdlib>

namespace ssecast::auth {
namespace {

using namespace std::chrono_literals;
constexpr std::string_view kSecret = "test-secret-0123456789";

using ssecast::auth::testing::b64url; // one encoder for every auth test (test_signing_keys.hpp)

hub::TopicPattern pattern(std::string_view text) {
    return hub::TopicPattern::parse(text).value();
}

class AuthenticatorTest : public ::testing::Test {
  protected:
    AuthenticatorTest() {
        cfg_.jwt_secret = std::string(kSecret);
        cfg_.publish_keys = {"pk-one", "pk-two"};
        cfg_.admin_token = "admin-token";
    }

    Authenticator make(bool anonymous = false) const {
        return Authenticator(cfg_, anonymous, clock_);
    }

    /// Signs arbitrary claims with the test secret.
    static std::string sign(std::string_view claims_json) {
        return sign_hs256(boost::json::parse(claims_json).as_object(), kSecret).value();
    }

    std::string mint(TokenClaims c) const { return make().mint(c).value(); }

    result<Identity> sub_with_header(const Authenticator& a, const std::string& token) const {
        const std::string header = "Bearer " + token;
        return a.authenticate({header, std::nullopt, ""}, "10.0.0.1");
    }

    config::AuthConfig cfg_;
    FakeClock clock_;
};

TEST_F(AuthenticatorTest, ValidTokenGivesIdentity) {
    const auto a = make();
    const auto id = sub_with_header(a, mint({.sub = "42", .ttl = 60s}));
    ASSERT_TRUE(id) << id.error().message();
    EXPECT_EQ(id->user_id, "42");
    EXPECT_FALSE(id->anonymous);
    EXPECT_FALSE(id->admin);
    EXPECT_FALSE(id->subscribe.has_value());
    ASSERT_TRUE(id->publish.has_value());
    EXPECT_TRUE(id->publish->empty());
}

TEST_F(AuthenticatorTest, ExpiredTokenIsUnauthorized) {
    const auto a = make();
    const std::string token = mint({.sub = "42", .ttl = 60s});
    clock_.advance(59s);
    EXPECT_TRUE(sub_with_header(a, token));
    clock_.advance(1s); // exactly exp: rejected (RFC 7519 "on or after")
    EXPECT_EQ(sub_with_header(a, token).error(), errc::unauthorized);
}

TEST_F(AuthenticatorTest, NotBeforeIsHonoured) {
    const auto a = make();
    const auto now =
        std::chrono::duration_cast<std::chrono::seconds>(clock_.system_now().time_since_epoch())
            .count();
    const std::string token = sign(R"({"sub":"u","nbf":)" + std::to_string(now + 10) + "}");
    EXPECT_EQ(sub_with_header(a, token).error(), errc::unauthorized);
    clock_.advance(10s);
    EXPECT_TRUE(sub_with_header(a, token));
}

TEST_F(AuthenticatorTest, WrongSecretIsUnauthorized) {
    config::AuthConfig other = cfg_;
    other.jwt_secret = "another-secret";
    const std::string token = Authenticator(other, false, clock_).mint({.sub = "42"}).value();
    EXPECT_EQ(sub_with_header(make(), token).error(), errc::unauthorized);
}

TEST_F(AuthenticatorTest, AlgNoneIsUnauthorized) {
    const std::string body = b64url(R"({"sub":"42","admin":true})");
    for (const char* header :
         {R"({"alg":"none"})", R"({"alg":"none","typ":"JWT"})", R"({"alg":"NONE","typ":"JWT"})"}) {
        const std::string h = b64url(header);
        for (const std::string& token :
             {h + "." + body + ".", h + "." + body, h + "." + body + "." + b64url("sig")}) {
            EXPECT_EQ(sub_with_header(make(), token).error(), errc::unauthorized) << token;
            EXPECT_FALSE(make().is_admin("Bearer " + token)) << token;
        }
    }
}

TEST_F(AuthenticatorTest, OtherAlgorithmsAreUnauthorized) {
    for (const jwt_alg_t alg : {JWT_ALG_HS384, JWT_ALG_HS512}) {
        jwt_t* jwt = nullptr;
        ASSERT_EQ(jwt_new(&jwt), 0);
        ASSERT_EQ(jwt_add_grant(jwt, "sub", "42"), 0);
        ASSERT_EQ(jwt_set_alg(jwt, alg, reinterpret_cast<const unsigned char*>(kSecret.data()),
                              static_cast<int>(kSecret.size())),
                  0);
        char* encoded = jwt_encode_str(jwt);
        ASSERT_NE(encoded, nullptr);
        const std::string token(encoded);
        std::free(encoded);
        jwt_free(jwt);
        EXPECT_EQ(sub_with_header(make(), token).error(), errc::unauthorized);
    }
}

TEST_F(AuthenticatorTest, GarbageAndOverlongTokensAreUnauthorized) {
    const auto a = make(/*anonymous=*/true);
    const std::string valid = mint({.sub = "42"});
    for (const std::string& token :
         {std::string("garbage"), std::string("a.b.c"), std::string(".."), std::string("Bearer"),
          valid.substr(0, valid.size() - 2), valid + "x", std::string(9000, 'a'),
          valid + std::string(8 * 1024, 'A')}) {
        EXPECT_EQ(sub_with_header(a, token).error(), errc::unauthorized) << token.substr(0, 40);
    }
    // A header "Bearer" without a token is a present-but-invalid token, not anonymous.
    EXPECT_EQ(a.authenticate({"Bearer", std::nullopt, ""}, "1.2.3.4").error(), errc::unauthorized);
}

TEST_F(AuthenticatorTest, NoSecretAcceptsNoJwt) {
    const std::string token = mint({.sub = "42"});
    cfg_.jwt_secret.clear();
    EXPECT_EQ(sub_with_header(make(), token).error(), errc::unauthorized);
    EXPECT_EQ(make().mint({.sub = "42"}).error(), errc::bad_request);
}

TEST_F(AuthenticatorTest, MissingOrBadClaimsAreUnauthorized) {
    for (const char* claims : {
             R"({})",
             R"({"sub":""})",
             R"({"sub":42})",
             R"({"sub":"a\nb"})",
             R"({"sub":"42","exp":"tomorrow"})",
             R"({"sub":"42","exp":1000})",
             R"({"sub":"42","admin":"yes"})",
             R"({"sub":"42","admin":1})",
             R"({"sub":"42","subscribe":"orders"})",
             R"({"sub":"42","subscribe":[1]})",
             R"({"sub":"42","subscribe":["bad topic"]})",
             R"({"sub":"42","subscribe":["orders/**"]})",
             R"({"sub":"42","subscribe":null})",
             R"({"sub":"42","publish":{"a":1}})",
             R"({"sub":"42","publish":["ok","x y"]})",
         }) {
        EXPECT_EQ(sub_with_header(make(true), sign(claims)).error(), errc::unauthorized) << claims;
    }
    const std::string long_sub(300, 'u');
    EXPECT_EQ(sub_with_header(make(), sign(R"({"sub":")" + long_sub + "\"}")).error(),
              errc::unauthorized);
}

TEST_F(AuthenticatorTest, ClaimsAreRead) {
    const auto id = sub_with_header(make(), sign(R"({"sub":"u1","exp":9999999999.5,"admin":true,
                        "subscribe":["orders/*","news"],"publish":["*"],"extra":{"x":1}})"));
    ASSERT_TRUE(id);
    EXPECT_TRUE(id->admin);
    ASSERT_TRUE(id->subscribe);
    EXPECT_EQ(*id->subscribe, (std::vector{pattern("orders/*"), pattern("news")}));
    ASSERT_TRUE(id->publish);
    EXPECT_EQ(*id->publish, std::vector{pattern("*")});
}

TEST_F(AuthenticatorTest, TokenSourcesAndPrecedence) {
    const auto a = make();
    const std::string h = mint({.sub = "header"});
    const std::string q = mint({.sub = "query"});
    const std::string c = mint({.sub = "cookie"});
    const std::string cookie = "theme=dark; ssecast_token=" + c + "; other=1";
    const std::string bearer = "Bearer " + h;

    EXPECT_EQ(a.authenticate({bearer, q, cookie}, "ip")->user_id, "header");
    EXPECT_EQ(a.authenticate({"", q, cookie}, "ip")->user_id, "query");
    EXPECT_EQ(a.authenticate({"", std::nullopt, cookie}, "ip")->user_id, "cookie");
    EXPECT_EQ(a.authenticate({"", std::nullopt, "ssecast_token=\"" + c + "\""}, "ip")->user_id,
              "cookie");
    // Scheme is case-insensitive; surrounding blanks are ignored.
    EXPECT_EQ(a.authenticate({"  bEaReR   " + h + " ", std::nullopt, ""}, "ip")->user_id, "header");
    // Another scheme is not a bearer token: fall through to the next source.
    EXPECT_EQ(a.authenticate({"Basic dXNlcjpwdw==", q, ""}, "ip")->user_id, "query");
    // The first present source decides even when it is invalid.
    EXPECT_EQ(a.authenticate({"Bearer nope", q, cookie}, "ip").error(), errc::unauthorized);
    EXPECT_EQ(a.authenticate({"", "nope", cookie}, "ip").error(), errc::unauthorized);
    // Only the exact cookie name counts.
    EXPECT_EQ(a.authenticate({"", std::nullopt, "xssecast_token=" + c}, "ip").error(),
              errc::unauthorized);
}

TEST_F(AuthenticatorTest, PresentButEmptyOrMalformedTokensNeverFallBackToAnonymous) {
    const auto a = make(true);
    const std::string t = mint({.sub = "u"});
    // Issue #12 finding 11: each of these was anonymous before.
    EXPECT_EQ(a.authenticate({"", "", ""}, "ip").error(), errc::unauthorized);
    EXPECT_EQ(a.authenticate({"Bearer\t" + t, std::nullopt, ""}, "ip").error(), errc::unauthorized);
    EXPECT_EQ(a.authenticate({"Bearer " + t + " x", std::nullopt, ""}, "ip").error(),
              errc::unauthorized);
    EXPECT_EQ(a.authenticate({"", std::nullopt, "ssecast_token="}, "ip").error(),
              errc::unauthorized);
    EXPECT_EQ(a.authenticate({"", std::nullopt, "ssecast_token=\"\""}, "ip").error(),
              errc::unauthorized);
    // Other schemes (a Basic credential meant for a proxy) are still not ours.
    EXPECT_TRUE(a.authenticate({"Basic dXNlcjpwdw==", std::nullopt, ""}, "ip")->anonymous);
    EXPECT_TRUE(a.authenticate({"Bearerx " + t, std::nullopt, ""}, "ip")->anonymous);
}

TEST_F(AuthenticatorTest, ReservedSubjectPrefixesAreRefused) {
    // Issue #12 finding 8: internal identities cannot be forged by a token's sub.
    for (const char* sub : {"anon:127.0.0.5", "publish-key:0", "anon:"}) {
        EXPECT_EQ(
            sub_with_header(make(true), sign(std::string(R"({"sub":")") + sub + "\"}")).error(),
            errc::unauthorized)
            << sub;
        EXPECT_EQ(make().mint({.sub = sub}).error(), errc::bad_request) << sub;
    }
    EXPECT_TRUE(sub_with_header(make(), sign(R"({"sub":"anonymous:x"})")));
    EXPECT_TRUE(sub_with_header(make(), sign(R"({"sub":"user:anon:1"})")));
}

TEST_F(AuthenticatorTest, AnonymousAllowedOrDenied) {
    const auto id = make(true).authenticate({"", std::nullopt, "theme=dark"}, "192.0.2.7");
    ASSERT_TRUE(id);
    EXPECT_EQ(id->user_id, "anon:192.0.2.7");
    EXPECT_TRUE(id->anonymous);
    EXPECT_FALSE(id->admin);
    EXPECT_FALSE(id->subscribe.has_value());
    ASSERT_TRUE(id->publish.has_value());
    EXPECT_TRUE(id->publish->empty());
    EXPECT_EQ(make(false).authenticate({"", std::nullopt, ""}, "192.0.2.7").error(),
              errc::unauthorized);
    // A bad token is refused even when anonymous access is allowed.
    EXPECT_EQ(make(true).authenticate({"", "bad", ""}, "ip").error(), errc::unauthorized);
}

TEST_F(AuthenticatorTest, PublishKeysAndPublishClaim) {
    const auto a = make();
    for (const char* key : {"pk-one", "pk-two"}) {
        const auto id = a.authenticate_publisher(std::string("Bearer ") + key);
        ASSERT_TRUE(id) << key;
        EXPECT_FALSE(id->publish.has_value());
        EXPECT_TRUE(Authenticator::may_publish(*id, "anything/at/all"));
    }
    EXPECT_EQ(a.authenticate_publisher("Bearer pk-one")->user_id, "publish-key:0");
    for (const char* bad :
         {"", "Bearer", "Bearer pk-on", "Bearer pk-one2", "pk-one", "Basic pk-one"}) {
        EXPECT_EQ(a.authenticate_publisher(bad).error(), errc::unauthorized) << bad;
    }

    const auto jwt_pub =
        a.authenticate_publisher("Bearer " + mint({.sub = "svc", .publish = {"orders/*"}}));
    ASSERT_TRUE(jwt_pub);
    EXPECT_EQ(jwt_pub->user_id, "svc");
    EXPECT_TRUE(Authenticator::may_publish(*jwt_pub, "orders/1"));
    EXPECT_FALSE(Authenticator::may_publish(*jwt_pub, "orders"));
    EXPECT_FALSE(Authenticator::may_publish(*jwt_pub, "news"));

    const auto no_claim = a.authenticate_publisher("Bearer " + mint({.sub = "reader"}));
    ASSERT_TRUE(no_claim);
    EXPECT_FALSE(Authenticator::may_publish(*no_claim, "orders/1"));
}

TEST_F(AuthenticatorTest, AdminTokenAndAdminJwt) {
    const auto a = make();
    EXPECT_TRUE(a.is_admin("Bearer admin-token"));
    EXPECT_TRUE(a.is_admin("bearer admin-token"));
    EXPECT_FALSE(a.is_admin("Bearer admin-toke"));
    EXPECT_FALSE(a.is_admin("Bearer admin-token-"));
    EXPECT_FALSE(a.is_admin("admin-token"));
    EXPECT_FALSE(a.is_admin(""));
    EXPECT_TRUE(a.is_admin("Bearer " + mint({.sub = "root", .admin = true})));
    EXPECT_FALSE(a.is_admin("Bearer " + mint({.sub = "user"})));
    EXPECT_FALSE(a.is_admin("Bearer pk-one"));

    cfg_.admin_token.clear();
    cfg_.jwt_secret.clear();
    const auto none = make();
    EXPECT_FALSE(none.is_admin("Bearer "));
    EXPECT_FALSE(none.is_admin("Bearer admin-token"));
}

TEST_F(AuthenticatorTest, MaySubscribeWithPatterns) {
    Identity any;
    any.subscribe.reset();
    EXPECT_TRUE(Authenticator::may_subscribe(any, pattern("*")));

    Identity who;
    who.subscribe = std::vector{pattern("news"), pattern("orders/*")};
    EXPECT_TRUE(Authenticator::may_subscribe(who, pattern("news")));
    EXPECT_FALSE(Authenticator::may_subscribe(who, pattern("news/1")));
    EXPECT_FALSE(Authenticator::may_subscribe(who, pattern("news/*")));
    EXPECT_TRUE(Authenticator::may_subscribe(who, pattern("orders/1")));
    EXPECT_TRUE(Authenticator::may_subscribe(who, pattern("orders/eu/*")));
    EXPECT_FALSE(Authenticator::may_subscribe(who, pattern("orders")));
    EXPECT_FALSE(Authenticator::may_subscribe(who, pattern("*")));

    Identity star;
    star.subscribe = std::vector{pattern("*")};
    EXPECT_TRUE(Authenticator::may_subscribe(star, pattern("*")));
    EXPECT_TRUE(Authenticator::may_subscribe(star, pattern("a/b/*")));

    Identity nothing;
    nothing.subscribe = std::vector<hub::TopicPattern>{};
    EXPECT_FALSE(Authenticator::may_subscribe(nothing, pattern("news")));
}

TEST_F(AuthenticatorTest, MayPublishWithPatterns) {
    Identity who;
    who.publish = std::vector{pattern("news"), pattern("orders/*")};
    EXPECT_TRUE(Authenticator::may_publish(who, "news"));
    EXPECT_FALSE(Authenticator::may_publish(who, "news/1"));
    EXPECT_TRUE(Authenticator::may_publish(who, "orders/1/2"));
    EXPECT_FALSE(Authenticator::may_publish(who, "orders"));
    who.publish = std::vector{pattern("*")};
    EXPECT_TRUE(Authenticator::may_publish(who, "x"));
    who.publish = std::vector<hub::TopicPattern>{};
    EXPECT_FALSE(Authenticator::may_publish(who, "x"));
}

TEST_F(AuthenticatorTest, MintVerifyRoundTrip) {
    const auto a = make();
    const auto token = a.mint({.sub = "u@example.com",
                               .subscribe = {"orders/*", "news"},
                               .publish = {"chat/room-1"},
                               .admin = true,
                               .ttl = 3600s});
    ASSERT_TRUE(token);
    const auto claims = verify_hs256(*token, kSecret);
    ASSERT_TRUE(claims);
    const auto now =
        std::chrono::duration_cast<std::chrono::seconds>(clock_.system_now().time_since_epoch())
            .count();
    EXPECT_EQ(claims->at("iat").as_int64(), now);
    EXPECT_EQ(claims->at("exp").as_int64(), now + 3600);

    const auto id = sub_with_header(a, *token);
    ASSERT_TRUE(id);
    EXPECT_EQ(id->user_id, "u@example.com");
    EXPECT_TRUE(id->admin);
    EXPECT_EQ(*id->subscribe, (std::vector{pattern("orders/*"), pattern("news")}));
    EXPECT_EQ(*id->publish, std::vector{pattern("chat/room-1")});

    // No ttl: no exp claim; empty lists: claims omitted.
    const auto plain = verify_hs256(a.mint({.sub = "p"}).value(), kSecret);
    ASSERT_TRUE(plain);
    EXPECT_FALSE(plain->contains("exp"));
    EXPECT_FALSE(plain->contains("subscribe"));
    EXPECT_FALSE(plain->contains("admin"));

    EXPECT_EQ(a.mint({.sub = ""}).error(), errc::bad_request);
    EXPECT_EQ(a.mint({.sub = "u", .subscribe = {"bad topic"}}).error(), errc::bad_topic);
}

} // namespace
} // namespace ssecast::auth
