// SPDX-License-Identifier: MIT
// JWKS parsing (good keys, every kind of bad key), public-key JWT verification through the
// Authenticator, algorithm confusion, issuer/audience, kid lookup and rotation.
#include "auth/authenticator.hpp"
#include "auth/jwk.hpp"
#include "auth/jws.hpp"
#include "auth/jwt.hpp"
#include "auth/test_signing_keys.hpp"

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include <gtest/gtest.h>

namespace ssecast::auth {
namespace {

using namespace std::chrono_literals;
using testing::b64url;
using testing::SigningKey;

std::string jwks_of(std::initializer_list<boost::json::object> keys) {
    boost::json::array arr;
    for (const auto& k : keys) {
        arr.push_back(k);
    }
    return boost::json::serialize(boost::json::object{{"keys", arr}});
}

class JwkTest : public ::testing::Test {
  protected:
    static void SetUpTestSuite() {
        rsa_ = new SigningKey(KeyAlg::rs256, "rsa-1");
        ec_ = new SigningKey(KeyAlg::es256, "ec-1");
        ed_ = new SigningKey(KeyAlg::eddsa, "ed-1");
    }
    static void TearDownTestSuite() {
        delete rsa_;
        delete ec_;
        delete ed_;
    }

    JwkTest() { cfg_.jwt_secret = "hs-secret-0123456789"; }

    void load(const std::string& doc) {
        auto jwks = parse_jwks(doc);
        ASSERT_TRUE(jwks);
        keys_.replace(KeySet::Source::url, std::move(jwks->keys));
    }

    result<Identity> check(const std::string& token) const {
        const Authenticator a(cfg_, false, clock_, &keys_);
        return a.authenticate({"Bearer " + token, std::nullopt, ""}, "10.0.0.1");
    }

    static inline SigningKey* rsa_ = nullptr;
    static inline SigningKey* ec_ = nullptr;
    static inline SigningKey* ed_ = nullptr;
    config::AuthConfig cfg_;
    FakeClock clock_;
    KeySet keys_;
};

TEST_F(JwkTest, EveryKeyTypeVerifiesItsOwnTokens) {
    load(jwks_of({rsa_->jwk(), ec_->jwk(), ed_->jwk()}));
    EXPECT_EQ(keys_.size(), 3U);
    for (const auto* k : {rsa_, ec_, ed_}) {
        const auto id = check(k->sign(R"({"sub":"u1","subscribe":["news"]})"));
        ASSERT_TRUE(id) << alg_name(k->alg()) << ": " << id.error().message();
        EXPECT_EQ(id->user_id, "u1");
        ASSERT_TRUE(id->subscribe);
        EXPECT_EQ(id->subscribe->size(), 1U);
    }
}

TEST_F(JwkTest, TamperedOrForeignSignaturesAreRefused) {
    load(jwks_of({rsa_->jwk(), ec_->jwk(), ed_->jwk()}));
    for (const auto* k : {rsa_, ec_, ed_}) {
        const std::string good = k->sign(R"({"sub":"u1"})");
        const auto dot = good.find('.');
        const auto last = good.rfind('.');
        // Same header and signature, another payload.
        const std::string swapped =
            good.substr(0, dot + 1) + b64url(R"({"sub":"admin"})") + good.substr(last);
        EXPECT_EQ(check(swapped).error(), errc::unauthorized) << alg_name(k->alg());
        // Signature cut short, or empty.
        EXPECT_EQ(check(good.substr(0, good.size() - 4)).error(), errc::unauthorized);
        EXPECT_EQ(check(good.substr(0, last + 1)).error(), errc::unauthorized);
        // Signed by another key of the same type, claiming this key's kid.
        const SigningKey other(k->alg(), k->kid());
        EXPECT_EQ(check(other.sign(R"({"sub":"u1"})")).error(), errc::unauthorized);
    }
}

TEST_F(JwkTest, TheAlgorithmComesFromTheKeyNeverFromTheToken) {
    load(jwks_of({rsa_->jwk(), ec_->jwk(), ed_->jwk()}));
    const std::string claims = R"({"sub":"u1","admin":true})";
    // A header naming another public-key algorithm for a kid of another type.
    EXPECT_EQ(check(SigningKey(KeyAlg::es256, "rsa-1").sign(claims)).error(), errc::unauthorized);
    EXPECT_EQ(check(SigningKey(KeyAlg::eddsa, "ec-1").sign(claims)).error(), errc::unauthorized);
    EXPECT_EQ(check(SigningKey(KeyAlg::rs256, "ed-1").sign(claims)).error(), errc::unauthorized);
    // RS256 signature, header says RS384 / PS256 / none: no key has those algorithms.
    for (const char* alg : {"RS384", "PS256", "none", "ES384", "Ed25519"}) {
        EXPECT_EQ(check(rsa_->sign(claims, alg)).error(), errc::unauthorized) << alg;
    }
    // The classic confusion: HS256 with the public key's bytes (PEM, JWK n, JWK JSON) as the
    // HMAC secret. HS256 is checked with auth.jwt_secret only.
    const auto jwk = rsa_->jwk();
    for (const std::string& secret :
         {std::string(jwk.at("n").as_string()), boost::json::serialize(jwk),
          std::string("-----BEGIN PUBLIC KEY-----")}) {
        boost::json::object claims_obj = boost::json::parse(claims).as_object();
        const std::string forged = sign_hs256(claims_obj, secret).value();
        EXPECT_EQ(check(forged).error(), errc::unauthorized);
    }
    // alg none with the kid of a real key.
    const std::string none = b64url(R"({"alg":"none","kid":"rsa-1"})") + "." + b64url(claims) + ".";
    EXPECT_EQ(check(none).error(), errc::unauthorized);
    // A crit header is never understood.
    const std::string input =
        b64url(R"({"alg":"RS256","kid":"rsa-1","crit":["exp"],"exp":1})") + "." + b64url(claims);
    EXPECT_EQ(check(input + "." + b64url(rsa_->raw_signature(input))).error(), errc::unauthorized);
}

TEST_F(JwkTest, HmacStillWorksBesideTheKeysAndOnlyWithTheSecret) {
    load(jwks_of({rsa_->jwk()}));
    const auto token =
        sign_hs256(boost::json::parse(R"({"sub":"h"})").as_object(), cfg_.jwt_secret).value();
    EXPECT_TRUE(check(token));
    cfg_.jwt_secret.clear();
    EXPECT_EQ(check(token).error(), errc::unauthorized);
    EXPECT_TRUE(check(rsa_->sign(R"({"sub":"r"})")));
}

TEST_F(JwkTest, UnknownKidIsItsOwnErrorSoTheCallerCanRefresh) {
    load(jwks_of({rsa_->jwk()}));
    const SigningKey rotated(KeyAlg::rs256, "rsa-2");
    const std::string token = rotated.sign(R"({"sub":"u"})");
    EXPECT_EQ(check(token).error(), errc::unknown_key);
    // Rotation: the new document replaces the old one.
    load(jwks_of({rotated.jwk()}));
    EXPECT_TRUE(check(token));
    EXPECT_EQ(check(rsa_->sign(R"({"sub":"u"})")).error(), errc::unknown_key);
    // The file's keys are a separate source: both verify.
    auto file = parse_jwks(jwks_of({ec_->jwk()}));
    keys_.replace(KeySet::Source::file, std::move(file->keys));
    EXPECT_TRUE(check(token));
    EXPECT_TRUE(check(ec_->sign(R"({"sub":"u"})")));
}

TEST_F(JwkTest, WithoutKidOnlyASingleKeyOfThatTypeIsUsed) {
    const SigningKey a(KeyAlg::es256, "");
    load(jwks_of({a.jwk(), rsa_->jwk()}));
    EXPECT_TRUE(check(a.sign(R"({"sub":"u"})")));
    const SigningKey b(KeyAlg::es256, "");
    load(jwks_of({a.jwk(), b.jwk()}));
    EXPECT_EQ(check(a.sign(R"({"sub":"u"})")).error(), errc::unknown_key); // ambiguous
}

TEST_F(JwkTest, IssuerAndAudienceAreCheckedWhenSet) {
    load(jwks_of({ec_->jwk()}));
    cfg_.jwt_issuer = "https://issuer.example";
    cfg_.jwt_audience = "ssecast";
    const auto ok = [&](std::string_view claims) { return bool(check(ec_->sign(claims))); };
    EXPECT_TRUE(ok(R"({"sub":"u","iss":"https://issuer.example","aud":"ssecast"})"));
    EXPECT_TRUE(ok(R"({"sub":"u","iss":"https://issuer.example","aud":["x","ssecast"]})"));
    EXPECT_FALSE(ok(R"({"sub":"u","iss":"https://issuer.example"})"));
    EXPECT_FALSE(ok(R"({"sub":"u","iss":"https://issuer.example","aud":"other"})"));
    EXPECT_FALSE(ok(R"({"sub":"u","iss":"https://issuer.example","aud":["other"]})"));
    EXPECT_FALSE(ok(R"({"sub":"u","iss":"https://issuer.example","aud":42})"));
    EXPECT_FALSE(ok(R"({"sub":"u","iss":"https://evil.example","aud":"ssecast"})"));
    EXPECT_FALSE(ok(R"({"sub":"u","aud":"ssecast"})"));
    EXPECT_FALSE(ok(R"({"sub":"u","iss":["https://issuer.example"],"aud":"ssecast"})"));
}

TEST_F(JwkTest, ExpiryIsReadIntoTheIdentity) {
    load(jwks_of({ed_->jwk()}));
    const auto now =
        std::chrono::duration_cast<std::chrono::seconds>(clock_.system_now().time_since_epoch());
    const auto id =
        check(ed_->sign(R"({"sub":"u","exp":)" + std::to_string(now.count() + 30) + "}"));
    ASSERT_TRUE(id);
    ASSERT_TRUE(id->expires_at);
    EXPECT_EQ(std::chrono::duration_cast<std::chrono::seconds>(id->expires_at->time_since_epoch()),
              now + 30s);
    EXPECT_FALSE(check(ed_->sign(R"({"sub":"u"})"))->expires_at);
    // Far-future exp (beyond what the clock can hold) is accepted as "never", not overflowed.
    const auto far = check(ed_->sign(R"({"sub":"u","exp":1e300})"));
    ASSERT_TRUE(far);
    EXPECT_FALSE(far->expires_at);
}

TEST(Jwks, BadKeysAreSkippedWithAReasonAndGoodOnesKept) {
    const SigningKey good(KeyAlg::rs256, "good");
    const SigningKey small(KeyAlg::rs256, "small", 1024);
    const SigningKey ec(KeyAlg::es256, "ec");
    auto short_x = ec.jwk();
    short_x["kid"] = "short-x";
    short_x["x"] = b64url(std::string(31, 'a'));
    auto off_curve = ec.jwk();
    off_curve["kid"] = "off-curve";
    off_curve["y"] = b64url(std::string(32, '\x01'));
    auto p384 = ec.jwk();
    p384["kid"] = "p384";
    p384["crv"] = "P-384";
    auto wrong_alg = good.jwk();
    wrong_alg["kid"] = "wrong-alg";
    wrong_alg["alg"] = "ES256";
    auto enc = good.jwk();
    enc["kid"] = "enc";
    enc["use"] = "enc";
    auto even_e = good.jwk();
    even_e["kid"] = "even-e";
    even_e["e"] = b64url(std::string("\x01\x00", 2));
    auto bad_b64 = good.jwk();
    bad_b64["kid"] = "bad-b64";
    bad_b64["n"] = "not base64!";
    const boost::json::object oct{{"kty", "oct"}, {"kid", "hmac"}, {"k", b64url("secret")}};
    const boost::json::object unknown{{"kty", "XYZ"}, {"kid", "xyz"}};
    auto dup = good.jwk();
    const std::string doc = jwks_of({good.jwk(), small.jwk(), short_x, off_curve, p384, wrong_alg,
                                     enc, even_e, bad_b64, oct, unknown, dup, ec.jwk()});
    const auto jwks = parse_jwks(doc);
    ASSERT_TRUE(jwks);
    ASSERT_EQ(jwks->keys.size(), 2U);
    EXPECT_EQ(jwks->keys[0].kid, "good");
    EXPECT_EQ(jwks->keys[1].kid, "ec");
    ASSERT_EQ(jwks->skipped.size(), 11U);
    for (const char* reason : {"2048", "32 bytes", "not on P-256", "P-256", "alg does not match",
                               "use", "exponent", "base64url", "\"oct\"", "\"XYZ\"", "earlier"}) {
        bool seen = false;
        for (const auto& s : jwks->skipped) {
            seen = seen || s.find(reason) != std::string::npos;
        }
        EXPECT_TRUE(seen) << reason;
    }
}

TEST(Jwks, MalformedDocumentsAreRefused) {
    for (const std::string& doc : {std::string(""), std::string("{"), std::string("[]"),
                                   std::string(R"({"keys":{}})"), std::string(R"({"key":[]})"),
                                   std::string(R"("keys")"), std::string(kMaxJwksBytes + 1, ' ')}) {
        EXPECT_FALSE(parse_jwks(doc)) << doc.substr(0, 20);
    }
    boost::json::array many;
    for (std::size_t i = 0; i <= kMaxJwksKeys; ++i) {
        many.push_back(boost::json::object{{"kty", "XYZ"}});
    }
    EXPECT_FALSE(parse_jwks(boost::json::serialize(boost::json::object{{"keys", many}})));
    EXPECT_TRUE(parse_jwks(R"({"keys":[]})"));
}

TEST(Jwks, Base64UrlIsStrict) {
    std::string out;
    EXPECT_TRUE(base64url_decode("aGk", out));
    EXPECT_EQ(out, "hi");
    EXPECT_FALSE(base64url_decode("aGk=", out)); // padding
    EXPECT_FALSE(base64url_decode("aG+k", out)); // standard alphabet
    EXPECT_FALSE(base64url_decode("aGl", out));  // non-zero unused bits: not canonical
    EXPECT_FALSE(base64url_decode("a", out));    // impossible length
    EXPECT_FALSE(base64url_decode("aG k", out));
    EXPECT_TRUE(base64url_decode("", out));
}

} // namespace
} // namespace ssecast::auth
