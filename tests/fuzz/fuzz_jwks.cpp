// SPDX-License-Identifier: MIT
// parse_jwks on any bytes: never a crash; every key returned holds an OpenSSL key, every
// array element is either a key or a skip reason; and a token (the part after a 0x1f byte)
// that verifies against those keys names an algorithm that is its key's own (no algorithm
// confusion, whatever the header says).
#include "auth/jwk.hpp"
#include "auth/jws.hpp"
#include "auth/key_set.hpp"
#include "fuzz_split.hpp"

#include <boost/json/parse.hpp>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    using ssecast::fuzz::fail;
    const auto parts = ssecast::fuzz::split(data, size, 2);
    const auto jwks = ssecast::auth::parse_jwks(parts[0]);
    if (!jwks) {
        return 0;
    }
    boost::system::error_code ec;
    const auto doc = boost::json::parse(parts[0], ec);
    if (ec || !doc.is_object() || !doc.as_object().contains("keys")) {
        fail("a document that is not {\"keys\": [...]} was accepted");
    }
    if (jwks->keys.size() + jwks->skipped.size() != doc.at("keys").as_array().size()) {
        fail("a JWK was neither a key nor a skip reason");
    }
    for (const auto& k : jwks->keys) {
        if (!k.pkey) {
            fail("a key without an OpenSSL key");
        }
    }
    ssecast::auth::KeySet keys;
    keys.replace(ssecast::auth::KeySet::Source::url, jwks->keys);
    const auto header = ssecast::auth::read_jws_header(parts[1]);
    if (!header || !ssecast::auth::verify_asymmetric(parts[1], *header, keys)) {
        return 0;
    }
    const auto alg = ssecast::auth::asymmetric_alg(header->alg);
    bool own = false;
    for (const auto& k : jwks->keys) {
        own = own || ((header->kid.empty() || k.kid == header->kid) && alg && k.alg == *alg);
    }
    if (!own) {
        fail("a token verified with a key of another algorithm");
    }
    return 0;
}
