// SPDX-License-Identifier: MIT
// Public-key JWS verification on pre-built EVP_PKEYs (no PEM per call, unlike libjwt 1.10).
#include "auth/jws.hpp"

#include "auth/jwt.hpp"

#include <boost/json/parse.hpp>

#include <openssl/bn.h>
#include <openssl/ecdsa.h>
#include <openssl/evp.h>

#include <memory>

namespace ssecast::auth {
namespace {

struct MdCtxFree {
    void operator()(EVP_MD_CTX* c) const noexcept { EVP_MD_CTX_free(c); }
};
struct SigFree {
    void operator()(ECDSA_SIG* s) const noexcept { ECDSA_SIG_free(s); }
};

/// JWS ES256 signatures are r || s, 32 bytes each (RFC 7518 §3.4); OpenSSL wants DER.
bool es256_to_der(const std::string& raw, std::string& der) {
    if (raw.size() != 64) {
        return false;
    }
    const auto* p = reinterpret_cast<const unsigned char*>(raw.data());
    std::unique_ptr<ECDSA_SIG, SigFree> sig(ECDSA_SIG_new());
    BIGNUM* r = BN_bin2bn(p, 32, nullptr);
    BIGNUM* s = BN_bin2bn(p + 32, 32, nullptr);
    if (!sig || !r || !s || ECDSA_SIG_set0(sig.get(), r, s) != 1) {
        BN_free(r);
        BN_free(s);
        return false;
    }
    const int len = i2d_ECDSA_SIG(sig.get(), nullptr);
    if (len <= 0) {
        return false;
    }
    der.resize(static_cast<std::size_t>(len));
    auto* out = reinterpret_cast<unsigned char*>(der.data());
    return i2d_ECDSA_SIG(sig.get(), &out) == len;
}

bool signature_valid(KeyAlg alg, EVP_PKEY* key, std::string_view signing_input,
                     const std::string& sig) {
    std::string der;
    const std::string* checked = &sig;
    if (alg == KeyAlg::es256) {
        if (!es256_to_der(sig, der)) {
            return false;
        }
        checked = &der;
    }
    const std::unique_ptr<EVP_MD_CTX, MdCtxFree> ctx(EVP_MD_CTX_new());
    // Ed25519 hashes internally (no digest may be named); the others are SHA-256.
    const EVP_MD* md = alg == KeyAlg::eddsa ? nullptr : EVP_sha256();
    if (!ctx || EVP_DigestVerifyInit(ctx.get(), nullptr, md, nullptr, key) != 1) {
        return false;
    }
    return EVP_DigestVerify(ctx.get(), reinterpret_cast<const unsigned char*>(checked->data()),
                            checked->size(),
                            reinterpret_cast<const unsigned char*>(signing_input.data()),
                            signing_input.size()) == 1;
}

} // namespace

result<JwsHeader> read_jws_header(std::string_view token) {
    if (token.empty() || token.size() > kMaxTokenBytes) {
        return errc::unauthorized;
    }
    const auto dot1 = token.find('.');
    const auto dot2 = dot1 == std::string_view::npos ? dot1 : token.find('.', dot1 + 1);
    if (dot2 == std::string_view::npos || token.find('.', dot2 + 1) != std::string_view::npos) {
        return errc::unauthorized;
    }
    std::string json;
    if (!base64url_decode(token.substr(0, dot1), json)) {
        return errc::unauthorized;
    }
    boost::system::error_code ec;
    const boost::json::value v = boost::json::parse(json, ec);
    const auto* obj = ec ? nullptr : v.if_object();
    const auto* alg = obj ? obj->if_contains("alg") : nullptr;
    if (!alg || !alg->is_string() || obj->contains("crit")) {
        return errc::unauthorized;
    }
    JwsHeader h;
    h.alg = std::string(alg->get_string());
    if (const auto* kid = obj->if_contains("kid")) {
        if (!kid->is_string()) {
            return errc::unauthorized;
        }
        h.kid = std::string(kid->get_string());
    }
    return h;
}

std::optional<KeyAlg> asymmetric_alg(std::string_view alg) {
    if (alg == "RS256") {
        return KeyAlg::rs256;
    }
    if (alg == "ES256") {
        return KeyAlg::es256;
    }
    if (alg == "EdDSA") {
        return KeyAlg::eddsa;
    }
    return std::nullopt;
}

result<boost::json::object> verify_asymmetric(std::string_view token, const JwsHeader& header,
                                              const KeySet& keys) {
    const auto alg = asymmetric_alg(header.alg);
    if (!alg) {
        return errc::unauthorized;
    }
    std::shared_ptr<EVP_PKEY> key;
    switch (keys.find(*alg, header.kid, key)) {
    case KeyLookup::found:
        break;
    case KeyLookup::unknown_kid:
        return errc::unknown_key;
    case KeyLookup::alg_mismatch:
        return errc::unauthorized;
    }
    const auto last = token.rfind('.');
    const std::string_view signing_input = token.substr(0, last);
    std::string sig;
    if (!base64url_decode(token.substr(last + 1), sig) ||
        !signature_valid(*alg, key.get(), signing_input, sig)) {
        return errc::unauthorized;
    }
    const auto first = token.find('.');
    std::string payload;
    if (!base64url_decode(token.substr(first + 1, last - first - 1), payload)) {
        return errc::unauthorized;
    }
    boost::system::error_code ec;
    boost::json::value claims = boost::json::parse(payload, ec);
    if (ec || !claims.is_object()) {
        return errc::unauthorized;
    }
    return std::move(claims.as_object());
}

} // namespace ssecast::auth
