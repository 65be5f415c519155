// SPDX-License-Identifier: MIT
// libjwt 1.10 wrapper: decode + HMAC check, then the claims are handed over as Boost.JSON
// so callers can check claim types exactly (libjwt 1.10 has no claim validation).
#include "auth/jwt.hpp"

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include <jwt.h>

#include <climits>
#include <cstdlib>
#include <memory>

namespace ssecast::auth {
namespace {

struct JwtDeleter {
    void operator()(jwt_t* j) const noexcept { jwt_free(j); }
};
using JwtPtr = std::unique_ptr<jwt_t, JwtDeleter>;

/// libjwt returns malloc'ed strings that the caller must free().
struct FreeDeleter {
    void operator()(char* p) const noexcept { std::free(p); }
};
using CString = std::unique_ptr<char, FreeDeleter>;

const unsigned char* key_bytes(std::string_view secret) {
    return reinterpret_cast<const unsigned char*>(secret.data());
}

} // namespace

result<boost::json::object> verify_hs256(std::string_view token, std::string_view secret) {
    if (secret.empty() || secret.size() > INT_MAX || token.empty() ||
        token.size() > kMaxTokenBytes || token.find('\0') != std::string_view::npos) {
        // A NUL would end the C string libjwt reads: bytes after it would go unchecked.
        return errc::unauthorized;
    }
    const std::string nul_terminated(token); // libjwt wants a C string
    jwt_t* raw = nullptr;
    const int rc = jwt_decode(&raw, nul_terminated.c_str(), key_bytes(secret),
                              static_cast<int>(secret.size()));
    JwtPtr jwt(raw);
    if (rc != 0 || !jwt) {
        return errc::unauthorized;
    }
    // libjwt verifies with whatever alg the header names; only HS256 is ours.
    if (jwt_get_alg(jwt.get()) != JWT_ALG_HS256) {
        return errc::unauthorized;
    }
    const CString grants(jwt_get_grants_json(jwt.get(), nullptr));
    if (!grants) {
        return errc::unauthorized;
    }
    boost::system::error_code ec;
    boost::json::value claims = boost::json::parse(grants.get(), ec);
    if (ec || !claims.is_object()) {
        return errc::unauthorized;
    }
    return std::move(claims.as_object());
}

result<std::string> sign_hs256(const boost::json::object& claims, std::string_view secret) {
    if (secret.empty() || secret.size() > INT_MAX) {
        return errc::bad_request;
    }
    jwt_t* raw = nullptr;
    if (jwt_new(&raw) != 0 || !raw) {
        return errc::internal;
    }
    JwtPtr jwt(raw);
    const std::string json = boost::json::serialize(claims);
    if (jwt_add_grants_json(jwt.get(), json.c_str()) != 0 ||
        jwt_set_alg(jwt.get(), JWT_ALG_HS256, key_bytes(secret), static_cast<int>(secret.size())) !=
            0) {
        return errc::internal;
    }
    const CString encoded(jwt_encode_str(jwt.get()));
    if (!encoded) {
        return errc::internal;
    }
    return std::string(encoded.get());
}

} // namespace ssecast::auth
