// SPDX-License-Identifier: MIT
// verify-cost: CPU time of one JWT check per algorithm through Authenticator::authenticate
// (HS256 via libjwt, RS256/ES256/EdDSA on prebuilt keys), and, for comparison, libjwt's
// RS256 with the PEM it re-parses on every call. Prints µs per check; not a test.
#include "auth/authenticator.hpp"
#include "auth/jwt.hpp"
#include "auth/test_signing_keys.hpp"

#include <boost/json/parse.hpp>

#include <jwt.h>
#include <openssl/pem.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>

using namespace ssecast;
using auth::KeyAlg;

namespace {

template <class Fn> double micros_per_call(int n, Fn&& fn) {
    const auto start = std::chrono::steady_clock::now();
    for (int i = 0; i < n; ++i) {
        if (!fn()) {
            std::fprintf(stderr, "verification failed\n");
            std::exit(1);
        }
    }
    return std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - start)
               .count() /
           n;
}

std::string public_pem(EVP_PKEY* key) {
    BIO* bio = BIO_new(BIO_s_mem());
    PEM_write_bio_PUBKEY(bio, key);
    char* data = nullptr;
    const long len = BIO_get_mem_data(bio, &data);
    std::string out(data, static_cast<std::size_t>(len));
    BIO_free(bio);
    return out;
}

} // namespace

int main(int argc, char** argv) {
    const int n = argc > 1 ? std::atoi(argv[1]) : 2000;
    const std::string claims = R"({"sub":"bench","subscribe":["orders/*"],"exp":9999999999})";
    config::AuthConfig cfg;
    cfg.jwt_secret = "bench-secret-0123456789abcdef";
    FakeClock clock;
    auth::KeySet keys;
    const auth::testing::SigningKey rsa(KeyAlg::rs256, "r");
    const auth::testing::SigningKey ec(KeyAlg::es256, "e");
    const auth::testing::SigningKey ed(KeyAlg::eddsa, "d");
    auto jwks = auth::parse_jwks(R"({"keys":[)" + boost::json::serialize(rsa.jwk()) + "," +
                                 boost::json::serialize(ec.jwk()) + "," +
                                 boost::json::serialize(ed.jwk()) + "]}");
    keys.replace(auth::KeySet::Source::file, std::move(jwks->keys));
    const auth::Authenticator a(cfg, false, clock, &keys);
    const auto check = [&](const std::string& token) {
        const std::string header = "Bearer " + token;
        return [&a, header] { return bool(a.authenticate({header, std::nullopt, ""}, "ip")); };
    };
    const std::string hs =
        auth::sign_hs256(boost::json::parse(claims).as_object(), cfg.jwt_secret).value();
    std::printf("HS256 (libjwt)            %8.1f us\n", micros_per_call(n, check(hs)));
    std::printf("RS256 2048 (prebuilt key) %8.1f us\n",
                micros_per_call(n, check(rsa.sign(claims))));
    std::printf("ES256 (prebuilt key)      %8.1f us\n", micros_per_call(n, check(ec.sign(claims))));
    std::printf("EdDSA (prebuilt key)      %8.1f us\n", micros_per_call(n, check(ed.sign(claims))));
    // What libjwt 1.10 would cost: a PEM string handed to jwt_decode on every call.
    const std::string pem = public_pem(rsa.pkey());
    const std::string rs = rsa.sign(claims);
    std::printf("RS256 2048 (libjwt, PEM)  %8.1f us\n", micros_per_call(n, [&] {
                    jwt_t* j = nullptr;
                    const int rc = jwt_decode(&j, rs.c_str(),
                                              reinterpret_cast<const unsigned char*>(pem.data()),
                                              static_cast<int>(pem.size()));
                    jwt_free(j);
                    return rc == 0;
                }));
    return 0;
}
