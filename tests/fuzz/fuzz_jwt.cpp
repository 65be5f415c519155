// SPDX-License-Identifier: MIT
// Authenticator with the fuzz input as the bearer token: never a crash, and never an
// identity (subscriber, publisher or admin) unless the token carries the right HS256
// signature, which this target recomputes independently with OpenSSL.
#include "auth/authenticator.hpp"
#include "common/clock.hpp"
#include "common/strings.hpp"
#include "fuzz_split.hpp"

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <string>

namespace {

constexpr std::string_view kSecret = "fuzz-secret-0123456789";
constexpr std::string_view kAdminToken = "fuzz-admin-token";
constexpr std::string_view kPublishKey = "fuzz-publish-key";

std::string base64url(const unsigned char* p, std::size_t n) {
    static constexpr char kAlphabet[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    std::string out;
    for (std::size_t i = 0; i < n; i += 3) {
        const unsigned v = (unsigned(p[i]) << 16) | (i + 1 < n ? unsigned(p[i + 1]) << 8 : 0u) |
                           (i + 2 < n ? unsigned(p[i + 2]) : 0u);
        out.push_back(kAlphabet[(v >> 18) & 63]);
        out.push_back(kAlphabet[(v >> 12) & 63]);
        if (i + 1 < n) {
            out.push_back(kAlphabet[(v >> 6) & 63]);
        }
        if (i + 2 < n) {
            out.push_back(kAlphabet[v & 63]);
        }
    }
    return out;
}

/// True when `token` is "<header>.<payload>.<sig>" and sig is the canonical base64url
/// HMAC-SHA256 of "<header>.<payload>" under kSecret.
bool correctly_signed(std::string_view token) {
    const auto last = token.rfind('.');
    if (last == std::string_view::npos) {
        return false;
    }
    const std::string_view signing_input = token.substr(0, last);
    unsigned char mac[EVP_MAX_MD_SIZE];
    unsigned int mac_len = 0;
    HMAC(EVP_sha256(), kSecret.data(), static_cast<int>(kSecret.size()),
         reinterpret_cast<const unsigned char*>(signing_input.data()), signing_input.size(), mac,
         &mac_len);
    std::string_view sig = token.substr(last + 1);
    while (sig.ends_with('=')) { // libjwt tolerates padding; the MAC bytes are what count
        sig.remove_suffix(1);
    }
    return sig == base64url(mac, mac_len);
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    using ssecast::fuzz::fail;
    static const ssecast::FakeClock clock;
    static const ssecast::auth::Authenticator auth(
        ssecast::config::AuthConfig{.jwt_secret = std::string(kSecret),
                                    .allow_anonymous = true,
                                    .publish_keys = {std::string(kPublishKey)},
                                    .admin_token = std::string(kAdminToken)},
        true, clock);
    const std::string_view raw(reinterpret_cast<const char*>(data), size);
    const std::string header = "Bearer " + std::string(raw);
    // The whole token is what must be verified (a NUL inside used to cut it short for
    // libjwt; jwt.cpp now refuses it, see docs/reliability.md).
    const std::string_view token = ssecast::trim_ows(raw);
    // A token that may not contain a separator the Authorization header could carry is
    // still checked: the header value is passed through verbatim.
    const bool signed_ok = correctly_signed(token);

    const auto sub = auth.authenticate({.authorization = header}, "192.0.2.1");
    if (sub && (!signed_ok || sub->anonymous)) {
        fail("subscriber accepted without a valid signature");
    }
    const auto via_query = auth.authenticate({.access_token = raw}, "192.0.2.1");
    if (!raw.empty() && via_query && !correctly_signed(raw)) {
        fail("access_token accepted without a valid signature");
    }
    const auto pub = auth.authenticate_publisher(header);
    if (pub && !signed_ok && token != kPublishKey) {
        fail("publisher accepted without a valid signature or key");
    }
    if (pub && !pub->publish && token != kPublishKey) {
        fail("a JWT got a publish key's unlimited rights");
    }
    if (auth.is_admin(header) && !signed_ok && token != kAdminToken) {
        fail("admin accepted without a valid signature or the admin token");
    }
    return 0;
}
