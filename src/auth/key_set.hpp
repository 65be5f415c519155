// SPDX-License-Identifier: MIT
// The public keys JWTs may be signed with (auth.jwks_file + auth.jwks_url), swapped whole
// when the JWKS is refetched, read by every shard without waiting for a fetch.
#pragma once

#include "auth/jwk.hpp"

#include <memory>
#include <mutex>
#include <string_view>
#include <vector>

namespace ssecast::auth {

/// What a token's header asks for, looked up in the current keys.
enum class KeyLookup {
    found,        ///< `key` verifies this token's alg
    unknown_kid,  ///< no key has that kid (a refresh may bring it)
    alg_mismatch, ///< the kid exists but its type means another alg: refused, no refresh
};

/// Thread-safe. Two sources (the file, read once; the URL, replaced on every good fetch):
/// a lookup sees one consistent snapshot of each.
class KeySet {
  public:
    enum class Source { file = 0, url = 1 };

    /// Replaces every key of `source`.
    void replace(Source source, std::vector<PublicKey> keys);

    /// The key for a token with header `alg` and `kid` ("" = no kid). Without a kid, the
    /// only key of that algorithm is used, and a set with two of them is unknown_kid
    /// (ambiguous). `alg` must already be one of RS256/ES256/EdDSA.
    KeyLookup find(KeyAlg alg, std::string_view kid, std::shared_ptr<EVP_PKEY>& key) const;

    /// Number of keys of all sources (for logs and tests).
    std::size_t size() const;

  private:
    using Keys = std::shared_ptr<const std::vector<PublicKey>>;
    mutable std::mutex mutex_; // guards sources_ (the vectors themselves are immutable)
    Keys sources_[2];
};

} // namespace ssecast::auth
