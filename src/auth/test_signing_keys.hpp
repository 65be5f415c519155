// SPDX-License-Identifier: MIT
// Tests and benches only: fresh RSA / P-256 / Ed25519 key pairs, their public JWK, and
// compact JWS signing with them, all through OpenSSL (no fixture files to go stale).
#pragma once

#include "auth/jwk.hpp"

#include <boost/json/object.hpp>
#include <boost/json/serialize.hpp>

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ecdsa.h>
#include <openssl/evp.h>

#include <memory>
#include <stdexcept>
#include <string>
#include <string_view>

namespace ssecast::auth::testing {

inline std::string b64url(std::string_view in) {
    static constexpr char kAlphabet[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    std::string out;
    unsigned bits = 0;
    int nbits = 0;
    for (unsigned char c : in) {
        bits = (bits << 8) | c;
        nbits += 8;
        while (nbits >= 6) {
            nbits -= 6;
            out += kAlphabet[(bits >> nbits) & 63U];
        }
    }
    if (nbits > 0) {
        out += kAlphabet[(bits << (6 - nbits)) & 63U];
    }
    return out;
}

/// A private key of one of the three types, with its public JWK.
class SigningKey {
  public:
    /// `bits` only for RSA.
    SigningKey(KeyAlg alg, std::string kid, unsigned bits = 2048)
        : alg_(alg), kid_(std::move(kid)) {
        EVP_PKEY* k = nullptr;
        switch (alg) {
        case KeyAlg::rs256:
            k = EVP_PKEY_Q_keygen(nullptr, nullptr, "RSA", static_cast<size_t>(bits));
            break;
        case KeyAlg::es256:
            k = EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-256");
            break;
        case KeyAlg::eddsa:
            k = EVP_PKEY_Q_keygen(nullptr, nullptr, "ED25519");
            break;
        }
        if (!k) {
            throw std::runtime_error("keygen failed");
        }
        key_.reset(k, EVP_PKEY_free);
    }

    const std::string& kid() const { return kid_; }
    KeyAlg alg() const { return alg_; }
    EVP_PKEY* pkey() const { return key_.get(); }

    /// The public JWK; "kid" omitted when empty.
    boost::json::object jwk() const {
        boost::json::object o;
        if (!kid_.empty()) {
            o["kid"] = kid_;
        }
        switch (alg_) {
        case KeyAlg::rs256:
            o["kty"] = "RSA";
            o["n"] = b64url(bn(OSSL_PKEY_PARAM_RSA_N));
            o["e"] = b64url(bn(OSSL_PKEY_PARAM_RSA_E));
            break;
        case KeyAlg::es256: {
            o["kty"] = "EC";
            o["crv"] = "P-256";
            unsigned char pub[65];
            size_t len = 0;
            EVP_PKEY_get_octet_string_param(key_.get(), OSSL_PKEY_PARAM_PUB_KEY, pub, sizeof(pub),
                                            &len);
            const std::string p(reinterpret_cast<const char*>(pub), len);
            o["x"] = b64url(p.substr(1, 32));
            o["y"] = b64url(p.substr(33, 32));
            break;
        }
        case KeyAlg::eddsa: {
            o["kty"] = "OKP";
            o["crv"] = "Ed25519";
            unsigned char pub[32];
            size_t len = sizeof(pub);
            EVP_PKEY_get_raw_public_key(key_.get(), pub, &len);
            o["x"] = b64url(std::string_view(reinterpret_cast<const char*>(pub), len));
            break;
        }
        }
        return o;
    }

    /// A compact JWS of `claims` with header {"alg": header_alg, "kid": kid} signed by
    /// this key (header_alg defaults to the key's own).
    std::string sign(std::string_view claims_json, std::string header_alg = "") const {
        if (header_alg.empty()) {
            header_alg = std::string(alg_name(alg_));
        }
        boost::json::object h{{"alg", header_alg}, {"typ", "JWT"}};
        if (!kid_.empty()) {
            h["kid"] = kid_;
        }
        const std::string input = b64url(boost::json::serialize(h)) + "." + b64url(claims_json);
        return input + "." + b64url(raw_signature(input));
    }

    std::string raw_signature(std::string_view input) const {
        std::unique_ptr<EVP_MD_CTX, void (*)(EVP_MD_CTX*)> ctx(EVP_MD_CTX_new(), EVP_MD_CTX_free);
        const EVP_MD* md = alg_ == KeyAlg::eddsa ? nullptr : EVP_sha256();
        size_t len = 0;
        const auto* in = reinterpret_cast<const unsigned char*>(input.data());
        EVP_DigestSignInit(ctx.get(), nullptr, md, nullptr, key_.get());
        EVP_DigestSign(ctx.get(), nullptr, &len, in, input.size());
        std::string sig(len, '\0');
        EVP_DigestSign(ctx.get(), reinterpret_cast<unsigned char*>(sig.data()), &len, in,
                       input.size());
        sig.resize(len);
        if (alg_ != KeyAlg::es256) {
            return sig;
        }
        // DER → r || s (RFC 7518 §3.4).
        const auto* p = reinterpret_cast<const unsigned char*>(sig.data());
        ECDSA_SIG* es = d2i_ECDSA_SIG(nullptr, &p, static_cast<long>(sig.size()));
        std::string raw(64, '\0');
        BN_bn2binpad(ECDSA_SIG_get0_r(es), reinterpret_cast<unsigned char*>(raw.data()), 32);
        BN_bn2binpad(ECDSA_SIG_get0_s(es), reinterpret_cast<unsigned char*>(raw.data()) + 32, 32);
        ECDSA_SIG_free(es);
        return raw;
    }

  private:
    std::string bn(const char* name) const {
        BIGNUM* b = nullptr;
        EVP_PKEY_get_bn_param(key_.get(), name, &b);
        std::string out(static_cast<std::size_t>(BN_num_bytes(b)), '\0');
        BN_bn2bin(b, reinterpret_cast<unsigned char*>(out.data()));
        BN_free(b);
        return out;
    }

    KeyAlg alg_;
    std::string kid_;
    std::shared_ptr<EVP_PKEY> key_;
};

} // namespace ssecast::auth::testing
