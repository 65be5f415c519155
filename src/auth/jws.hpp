// SPDX-License-Identifier: MIT
// Compact JWS (RFC 7515) with public keys: RS256, ES256, EdDSA, checked with OpenSSL's
// EVP_DigestVerify on the keys KeySet already holds. HS256 stays in jwt.cpp (libjwt).
#pragma once

#include "auth/key_set.hpp"
#include "common/errc.hpp"

#include <boost/json/object.hpp>

#include <optional>
#include <string>
#include <string_view>

namespace ssecast::auth {

/// The members of a JWS header that decide how it is checked.
struct JwsHeader {
    std::string alg;
    std::string kid; ///< "" when absent
};

/// Decodes the header of `token` ("<b64 header>.<b64 payload>.<b64 signature>").
/// errc::unauthorized when the token is over kMaxTokenBytes, has not exactly three parts,
/// uses non-canonical base64url, or its header is not a JSON object with a string `alg`,
/// has a non-string `kid`, or has a `crit` member (no extension is understood, RFC 7515
/// §4.1.11). Thread-safe.
result<JwsHeader> read_jws_header(std::string_view token);

/// The KeyAlg a header `alg` names, or nullopt ("none", "HS256", "RS384", anything else).
std::optional<KeyAlg> asymmetric_alg(std::string_view alg);

/// Verifies `token`'s signature with the key KeySet gives for its header (the key's type
/// fixes the algorithm) and returns the claim set. errc::unknown_key when no key has the
/// header's kid; errc::unauthorized for any other failure (alg mismatch, bad signature,
/// an ES256 signature that is not 64 raw bytes, a payload that is not a JSON object).
/// Thread-safe; no key is parsed here.
result<boost::json::object> verify_asymmetric(std::string_view token, const JwsHeader& header,
                                              const KeySet& keys);

} // namespace ssecast::auth
