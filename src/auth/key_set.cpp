// SPDX-License-Identifier: MIT
// KeySet: snapshot under a short lock, search outside it.
#include "auth/key_set.hpp"

namespace ssecast::auth {

void KeySet::replace(Source source, std::vector<PublicKey> keys) {
    auto fresh = std::make_shared<const std::vector<PublicKey>>(std::move(keys));
    const std::lock_guard lock(mutex_);
    sources_[static_cast<int>(source)] = std::move(fresh);
}

KeyLookup KeySet::find(KeyAlg alg, std::string_view kid, std::shared_ptr<EVP_PKEY>& key) const {
    Keys snapshot[2];
    {
        const std::lock_guard lock(mutex_);
        snapshot[0] = sources_[0];
        snapshot[1] = sources_[1];
    }
    const PublicKey* match = nullptr;
    bool ambiguous = false;
    for (const auto& keys : snapshot) {
        if (!keys) {
            continue;
        }
        for (const auto& k : *keys) {
            if (!kid.empty()) {
                if (k.kid == kid) {
                    // The key decides the algorithm: a kid of an RSA key with alg ES256 (or
                    // HS256, handled before any lookup) is refused, whatever else matches.
                    if (k.alg != alg) {
                        return KeyLookup::alg_mismatch;
                    }
                    key = k.pkey;
                    return KeyLookup::found;
                }
            } else if (k.alg == alg) {
                ambiguous = ambiguous || match != nullptr;
                match = &k;
            }
        }
    }
    if (match == nullptr || ambiguous) {
        return KeyLookup::unknown_kid;
    }
    key = match->pkey;
    return KeyLookup::found;
}

std::size_t KeySet::size() const {
    const std::lock_guard lock(mutex_);
    std::size_t n = 0;
    for (const auto& keys : sources_) {
        n += keys ? keys->size() : 0;
    }
    return n;
}

} // namespace ssecast::auth
