// SPDX-License-Identifier: MIT
// JWK → EVP_PKEY with OpenSSL 3 (EVP_PKEY_fromdata / raw public keys); libjwt 1.10 has no
// JWKS and wants a PEM string on every verification, so keys are built here, once.
#include "auth/jwk.hpp"
#include "common/utf8.hpp"

#include <boost/json/parse.hpp>

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>

#include <array>
#include <set>

namespace ssecast::auth {
namespace {

constexpr std::size_t kMinRsaBytes = 256;  // 2048 bits (RFC 7518 §3.3)
constexpr std::size_t kMaxRsaBytes = 1024; // 8192 bits: bounds the cost of one verify
constexpr std::size_t kCoordBytes = 32;    // P-256 coordinates and Ed25519 keys

struct BnFree {
    void operator()(BIGNUM* b) const noexcept { BN_free(b); }
};
struct BldFree {
    void operator()(OSSL_PARAM_BLD* b) const noexcept { OSSL_PARAM_BLD_free(b); }
};
struct ParamFree {
    void operator()(OSSL_PARAM* p) const noexcept { OSSL_PARAM_free(p); }
};
struct CtxFree {
    void operator()(EVP_PKEY_CTX* c) const noexcept { EVP_PKEY_CTX_free(c); }
};

std::shared_ptr<EVP_PKEY> own(EVP_PKEY* k) {
    return k ? std::shared_ptr<EVP_PKEY>(k, EVP_PKEY_free) : nullptr;
}

/// A required base64url string member, decoded; false when absent or malformed.
bool member_bytes(const boost::json::object& jwk, std::string_view name, std::string& out) {
    const auto* v = jwk.if_contains(name);
    return v && v->is_string() && base64url_decode(v->get_string(), out);
}

/// Builds `type` ("RSA", "EC") from `params`; null when OpenSSL refuses them.
EVP_PKEY* from_params(const char* type, OSSL_PARAM_BLD* bld) {
    const std::unique_ptr<OSSL_PARAM, ParamFree> params(OSSL_PARAM_BLD_to_param(bld));
    const std::unique_ptr<EVP_PKEY_CTX, CtxFree> ctx(
        EVP_PKEY_CTX_new_from_name(nullptr, type, nullptr));
    EVP_PKEY* key = nullptr;
    if (!params || !ctx || EVP_PKEY_fromdata_init(ctx.get()) <= 0 ||
        EVP_PKEY_fromdata(ctx.get(), &key, EVP_PKEY_PUBLIC_KEY, params.get()) <= 0) {
        return nullptr;
    }
    return key;
}

/// Why the RSA JWK is unusable, or "" with `out` set.
std::string rsa_key(const boost::json::object& jwk, std::shared_ptr<EVP_PKEY>& out) {
    std::string n;
    std::string e;
    if (!member_bytes(jwk, "n", n) || !member_bytes(jwk, "e", e)) {
        return "RSA key without valid base64url n and e";
    }
    const auto first = n.find_first_not_of('\0');
    const std::size_t n_len = first == std::string::npos ? 0 : n.size() - first;
    if (n_len < kMinRsaBytes || n_len > kMaxRsaBytes) {
        return "RSA modulus of " + std::to_string(n_len * 8) + " bits (2048..8192 accepted)";
    }
    if (e.empty() || e.size() > 8 || (static_cast<unsigned char>(e.back()) & 1U) == 0 ||
        (e.size() == 1 && static_cast<unsigned char>(e[0]) < 3)) {
        return "RSA exponent that is even, tiny or over 64 bits";
    }
    const auto* np = reinterpret_cast<const unsigned char*>(n.data());
    const auto* ep = reinterpret_cast<const unsigned char*>(e.data());
    const std::unique_ptr<BIGNUM, BnFree> bn_n(BN_bin2bn(np, static_cast<int>(n.size()), nullptr));
    const std::unique_ptr<BIGNUM, BnFree> bn_e(BN_bin2bn(ep, static_cast<int>(e.size()), nullptr));
    const std::unique_ptr<OSSL_PARAM_BLD, BldFree> bld(OSSL_PARAM_BLD_new());
    if (!bn_n || !bn_e || !bld ||
        !OSSL_PARAM_BLD_push_BN(bld.get(), OSSL_PKEY_PARAM_RSA_N, bn_n.get()) ||
        !OSSL_PARAM_BLD_push_BN(bld.get(), OSSL_PKEY_PARAM_RSA_E, bn_e.get())) {
        return "RSA key OpenSSL cannot hold";
    }
    out = own(from_params("RSA", bld.get()));
    return out ? "" : "RSA key OpenSSL refused";
}

/// Why the EC JWK is unusable, or "" with `out` set. Only P-256 (ES256).
std::string ec_key(const boost::json::object& jwk, std::shared_ptr<EVP_PKEY>& out) {
    const auto* crv = jwk.if_contains("crv");
    if (!crv || !crv->is_string() || crv->get_string() != "P-256") {
        return "EC key on a curve other than P-256";
    }
    std::string x;
    std::string y;
    if (!member_bytes(jwk, "x", x) || !member_bytes(jwk, "y", y) || x.size() != kCoordBytes ||
        y.size() != kCoordBytes) {
        return "EC key whose x and y are not 32 bytes of base64url each";
    }
    // SEC1 uncompressed point: 0x04 || x || y.
    const std::string point = std::string(1, '\x04') + x + y;
    const std::unique_ptr<OSSL_PARAM_BLD, BldFree> bld(OSSL_PARAM_BLD_new());
    if (!bld ||
        !OSSL_PARAM_BLD_push_utf8_string(bld.get(), OSSL_PKEY_PARAM_GROUP_NAME, "prime256v1", 0) ||
        !OSSL_PARAM_BLD_push_octet_string(bld.get(), OSSL_PKEY_PARAM_PUB_KEY, point.data(),
                                          point.size())) {
        return "EC key OpenSSL cannot hold";
    }
    auto key = own(from_params("EC", bld.get()));
    if (!key) {
        return "EC point not on P-256 (OpenSSL refused it)";
    }
    // fromdata does not promise an on-curve check; an off-curve point is an invalid-curve
    // attack surface, so check it explicitly.
    const std::unique_ptr<EVP_PKEY_CTX, CtxFree> check(
        EVP_PKEY_CTX_new_from_pkey(nullptr, key.get(), nullptr));
    if (!check || EVP_PKEY_public_check(check.get()) != 1) {
        return "EC point not on P-256";
    }
    out = std::move(key);
    return "";
}

/// Why the OKP JWK is unusable, or "" with `out` set. Only Ed25519 (EdDSA).
std::string okp_key(const boost::json::object& jwk, std::shared_ptr<EVP_PKEY>& out) {
    const auto* crv = jwk.if_contains("crv");
    if (!crv || !crv->is_string() || crv->get_string() != "Ed25519") {
        return "OKP key on a curve other than Ed25519";
    }
    std::string x;
    if (!member_bytes(jwk, "x", x) || x.size() != kCoordBytes) {
        return "Ed25519 key whose x is not 32 bytes of base64url";
    }
    out = own(EVP_PKEY_new_raw_public_key(
        EVP_PKEY_ED25519, nullptr, reinterpret_cast<const unsigned char*>(x.data()), x.size()));
    return out ? "" : "Ed25519 key OpenSSL refused";
}

/// One JWK → key, or the reason it is skipped.
std::string parse_key(const boost::json::value& v, PublicKey& out) {
    const auto* jwk = v.if_object();
    if (!jwk) {
        return "not a JSON object";
    }
    const auto* kty = jwk->if_contains("kty");
    if (!kty || !kty->is_string()) {
        return "no kty";
    }
    if (const auto* use = jwk->if_contains("use"); use && (!use->is_string() || *use != "sig")) {
        return "use is not \"sig\"";
    }
    if (const auto* kid = jwk->if_contains("kid")) {
        if (!kid->is_string() || kid->get_string().size() > 256) {
            return "kid is not a string of at most 256 bytes";
        }
        out.kid = std::string(kid->get_string());
    }
    const std::string_view type = kty->get_string();
    std::string why;
    if (type == "RSA") {
        out.alg = KeyAlg::rs256;
        why = rsa_key(*jwk, out.pkey);
    } else if (type == "EC") {
        out.alg = KeyAlg::es256;
        why = ec_key(*jwk, out.pkey);
    } else if (type == "OKP") {
        out.alg = KeyAlg::eddsa;
        why = okp_key(*jwk, out.pkey);
    } else {
        return "unsupported kty \"" + std::string(type.substr(0, 16)) + "\"";
    }
    if (!why.empty()) {
        return why;
    }
    // RFC 7517 §4.4: a key that names its algorithm may be used with that one only.
    if (const auto* alg = jwk->if_contains("alg");
        alg && (!alg->is_string() || alg->get_string() != alg_name(out.alg))) {
        return "alg does not match the key type (" + std::string(alg_name(out.alg)) + " expected)";
    }
    return "";
}

constexpr std::array<signed char, 256> kDecode = [] {
    std::array<signed char, 256> t{};
    t.fill(-1);
    constexpr std::string_view kAlphabet =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    for (std::size_t i = 0; i < kAlphabet.size(); ++i) {
        t[static_cast<unsigned char>(kAlphabet[i])] = static_cast<signed char>(i);
    }
    return t;
}();

} // namespace

std::string_view alg_name(KeyAlg a) noexcept {
    switch (a) {
    case KeyAlg::rs256:
        return "RS256";
    case KeyAlg::es256:
        return "ES256";
    case KeyAlg::eddsa:
        return "EdDSA";
    }
    return "";
}

bool base64url_decode(std::string_view in, std::string& out) {
    out.clear();
    if (in.size() % 4 == 1) {
        return false; // no encoder ever produces this length
    }
    out.reserve(in.size() * 3 / 4);
    unsigned bits = 0;
    int nbits = 0;
    for (const char c : in) {
        const int d = kDecode[static_cast<unsigned char>(c)];
        if (d < 0) {
            return false;
        }
        bits = (bits << 6) | static_cast<unsigned>(d);
        nbits += 6;
        if (nbits >= 8) {
            nbits -= 8;
            out.push_back(static_cast<char>((bits >> nbits) & 0xffU));
        }
    }
    // Canonical form only: the unused low bits of the last character must be zero, so one
    // signature has one spelling.
    return (bits & ((1U << nbits) - 1U)) == 0;
}

result<Jwks> parse_jwks(std::string_view json) {
    if (json.size() > kMaxJwksBytes) {
        return errc::bad_json;
    }
    boost::system::error_code ec;
    const boost::json::value doc = boost::json::parse(json, ec);
    const auto* obj = ec ? nullptr : doc.if_object();
    const auto* keys = obj ? obj->if_contains("keys") : nullptr;
    if (!keys || !keys->is_array() || keys->get_array().size() > kMaxJwksKeys) {
        return errc::bad_json;
    }
    Jwks out;
    std::set<std::string> kids;
    std::size_t index = 0;
    for (const auto& v : keys->get_array()) {
        PublicKey key;
        std::string why = parse_key(v, key);
        if (why.empty() && !key.kid.empty() && !kids.insert(key.kid).second) {
            why = "kid used by an earlier key";
        }
        if (!why.empty()) {
            std::string where = "key " + std::to_string(index);
            if (!key.kid.empty()) {
                where += " (kid \"" + log_excerpt(key.kid, 64) + "\")";
            }
            out.skipped.push_back(where + ": " + why);
        } else {
            out.keys.push_back(std::move(key));
        }
        ++index;
    }
    return out;
}

} // namespace ssecast::auth
