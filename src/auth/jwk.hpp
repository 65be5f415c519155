// SPDX-License-Identifier: MIT
// JSON Web Keys (RFC 7517) → OpenSSL 3 public keys, parsed once per key set so that a
// signature check never parses key material (SPEC §Keys: auth.jwks_file, auth.jwks_url).
#pragma once

#include "common/errc.hpp"

#include <openssl/types.h>

#include <cstddef>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace ssecast::auth {

/// The one JWS algorithm a key may verify. It comes from the key's type (kty/crv), never
/// from a token: RSA → RS256, EC P-256 → ES256, OKP Ed25519 → EdDSA.
enum class KeyAlg { rs256, es256, eddsa };

/// The JWS `alg` name of `a` ("RS256", "ES256", "EdDSA").
std::string_view alg_name(KeyAlg a) noexcept;

/// One verified-to-be-well-formed public key. Immutable; shared by every shard (OpenSSL 3
/// allows concurrent verification with one EVP_PKEY).
struct PublicKey {
    std::string kid; ///< "" when the JWK has none
    KeyAlg alg = KeyAlg::rs256;
    std::shared_ptr<EVP_PKEY> pkey;
};

/// A parsed JWKS document: the usable keys and one line per key that was skipped.
struct Jwks {
    std::vector<PublicKey> keys;
    std::vector<std::string> skipped; ///< "key 2 (kid \"x\"): RSA modulus under 2048 bits"
};

/// Documents and keys past these are refused before OpenSSL sees them.
inline constexpr std::size_t kMaxJwksBytes = 256 * 1024;
inline constexpr std::size_t kMaxJwksKeys = 64;

/// Parses a JWKS document `{"keys": [...]}`. errc::bad_json when the text is not a JSON
/// object with a `keys` array (or is over kMaxJwksBytes / kMaxJwksKeys). Each key that is
/// unusable is skipped with its reason and never fails the others: an unknown `kty`
/// (including "oct": symmetric keys never come from a JWKS), a `use` other than "sig", an
/// `alg` that does not match the key type, a curve other than P-256 / Ed25519, an RSA
/// modulus under 2048 or over 8192 bits, an even or tiny exponent, coordinates of the wrong
/// length, a point not on the curve, bad base64url, or a `kid` used twice. Never throws;
/// thread-safe.
result<Jwks> parse_jwks(std::string_view json);

/// Strict base64url (RFC 7515 §2: no padding, no other characters). False on bad input.
bool base64url_decode(std::string_view in, std::string& out);

} // namespace ssecast::auth
