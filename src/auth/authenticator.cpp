// SPDX-License-Identifier: MIT
// Credentials → Identity: token sources, JWT claim checks (exp, nbf, sub, subscribe,
// publish, admin), publish keys, admin token, topic permissions (SPEC §Subscribe, §Publish).
#include "auth/authenticator.hpp"
#include "common/strings.hpp"

#include "auth/jws.hpp"
#include "auth/jwt.hpp"

#include <boost/json/array.hpp>

#include <algorithm>
#include <array>
#include <cctype>

namespace ssecast::auth {
namespace {

/// Longest `sub` accepted; user ids end up in Redis keys and monitor output.
constexpr std::size_t kMaxSubjectBytes = 256;
constexpr std::string_view kCookieName = "ssecast_token";

bool iequals(std::string_view a, std::string_view b) {
    return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
               return std::tolower(static_cast<unsigned char>(x)) ==
                      std::tolower(static_cast<unsigned char>(y));
           });
}

/// The token of `Authorization: Bearer <token>` (scheme case-insensitive, RFC 7235).
/// nullopt when the header is absent or uses another scheme. "" when the Bearer scheme is
/// there but no well-formed token follows ("Bearer", "Bearer\t<t>", "Bearer a b"): a
/// present credential that is malformed, which the caller refuses (issue #12, finding 11).
std::optional<std::string_view> bearer_token(std::string_view header) {
    header = trim_ows(header);
    constexpr std::string_view kScheme = "bearer";
    if (header.size() < kScheme.size() || !iequals(header.substr(0, kScheme.size()), kScheme)) {
        return std::nullopt;
    }
    const std::string_view rest = header.substr(kScheme.size());
    if (!rest.empty() && rest.front() != ' ' && rest.front() != '\t') {
        return std::nullopt; // another scheme that starts with the same letters
    }
    if (rest.empty() || rest.front() != ' ') {
        return std::string_view(); // RFC 7235: the scheme and the token are parted by SP
    }
    const std::string_view token = trim_ows(rest);
    if (token.find_first_of(" \t") != std::string_view::npos) {
        return std::string_view();
    }
    return token;
}

/// The value of cookie `name` in a Cookie header ("a=b; ssecast_token=X"), unquoted;
/// nullopt when absent, "" when present but empty (refused like any malformed token).
std::optional<std::string_view> cookie_value(std::string_view header, std::string_view name) {
    while (!header.empty()) {
        const auto semi = header.find(';');
        const std::string_view pair = trim_ows(header.substr(0, semi));
        header = semi == std::string_view::npos ? std::string_view() : header.substr(semi + 1);
        const auto eq = pair.find('=');
        if (eq == std::string_view::npos || trim_ows(pair.substr(0, eq)) != name) {
            continue;
        }
        std::string_view value = trim_ows(pair.substr(eq + 1));
        if (value.size() >= 2 && value.front() == '"' && value.back() == '"') {
            value = value.substr(1, value.size() - 2);
        }
        return value;
    }
    return std::nullopt;
}

/// Compares in time that depends only on `expected`'s length, so a caller cannot find
/// the admin token or a publish key byte by byte.
bool constant_time_equal(std::string_view given, std::string_view expected) {
    volatile unsigned char diff = given.size() == expected.size() ? 0 : 1;
    for (std::size_t i = 0; i < expected.size(); ++i) {
        const char g = i < given.size() ? given[i] : '\0';
        diff = static_cast<unsigned char>(diff | static_cast<unsigned char>(g ^ expected[i]));
    }
    return diff == 0;
}

/// A claim that must be an array of topic patterns. nullopt value = claim absent.
/// Returns false when the claim is present but is not an array of valid pattern strings.
bool read_patterns(const boost::json::object& claims, std::string_view name,
                   std::optional<std::vector<hub::TopicPattern>>& out) {
    const auto* v = claims.if_contains(name);
    if (!v) {
        out.reset();
        return true;
    }
    const auto* arr = v->if_array();
    if (!arr) {
        return false;
    }
    std::vector<hub::TopicPattern> patterns;
    patterns.reserve(arr->size());
    for (const auto& item : *arr) {
        const auto* s = item.if_string();
        if (!s) {
            return false;
        }
        auto p = hub::TopicPattern::parse(std::string_view(*s));
        if (!p) {
            return false;
        }
        patterns.push_back(std::move(*p));
    }
    out = std::move(patterns);
    return true;
}

/// A numeric time claim (`exp`, `nbf`) in seconds; false when present but not a number.
bool read_time(const boost::json::object& claims, std::string_view name,
               std::optional<double>& out) {
    const auto* v = claims.if_contains(name);
    if (!v) {
        return true;
    }
    if (!v->is_number()) {
        return false;
    }
    boost::system::error_code ec;
    out = v->to_number<double>(ec);
    return !ec;
}

/// Identities ssecast makes itself. A `sub` may not start with one, or a token could spend
/// a publish key's or an IP's budget and receive events targeted at `anon:<ip>` (issue #12,
/// finding 8).
constexpr std::array<std::string_view, 2> kReservedSubjectPrefixes = {"anon:", "publish-key:"};

bool subject_ok(std::string_view sub) {
    return !sub.empty() && sub.size() <= kMaxSubjectBytes &&
           std::none_of(kReservedSubjectPrefixes.begin(), kReservedSubjectPrefixes.end(),
                        [&](std::string_view p) { return sub.starts_with(p); }) &&
           std::none_of(sub.begin(), sub.end(),
                        [](char c) { return static_cast<unsigned char>(c) < 0x20 || c == 0x7f; });
}

/// RFC 7519 §4.1.1/§4.1.3: `iss` equal to `issuer`, `audience` in `aud` (a string or an
/// array of strings). An empty expectation is not checked.
bool issuer_and_audience_match(const boost::json::object& claims, std::string_view issuer,
                               std::string_view audience) {
    if (!issuer.empty()) {
        const auto* iss = claims.if_contains("iss");
        if (!iss || !iss->is_string() || iss->get_string() != issuer) {
            return false;
        }
    }
    if (audience.empty()) {
        return true;
    }
    const auto* aud = claims.if_contains("aud");
    if (aud && aud->is_string()) {
        return aud->get_string() == audience;
    }
    if (!aud || !aud->is_array()) {
        return false;
    }
    return std::any_of(aud->get_array().begin(), aud->get_array().end(),
                       [&](const auto& a) { return a.is_string() && a.get_string() == audience; });
}

/// Claims → Identity; errc::unauthorized on any missing, expired or mistyped claim.
result<Identity> identity_from_claims(const boost::json::object& claims,
                                      std::chrono::system_clock::time_point now) {
    const double now_s = std::chrono::duration<double>(now.time_since_epoch()).count();
    std::optional<double> exp;
    std::optional<double> nbf;
    if (!read_time(claims, "exp", exp) || !read_time(claims, "nbf", nbf)) {
        return errc::unauthorized;
    }
    // RFC 7519 §4.1.4: not accepted on or after exp.
    if ((exp && now_s >= *exp) || (nbf && now_s < *nbf)) {
        return errc::unauthorized;
    }
    Identity id;
    // Past year 2262 a nanosecond system_clock overflows; such an exp is "never" anyway.
    constexpr double kLatestExpiry = 9.0e9;
    if (exp && *exp < kLatestExpiry) {
        id.expires_at = std::chrono::system_clock::time_point(
            std::chrono::duration_cast<std::chrono::system_clock::duration>(
                std::chrono::duration<double>(*exp)));
    }
    const auto* sub = claims.if_contains("sub");
    if (!sub || !sub->is_string() || !subject_ok(sub->get_string())) {
        return errc::unauthorized;
    }
    id.user_id = std::string(sub->get_string());
    if (const auto* admin = claims.if_contains("admin")) {
        if (!admin->is_bool()) {
            return errc::unauthorized;
        }
        id.admin = admin->get_bool();
    }
    std::optional<std::vector<hub::TopicPattern>> publish;
    if (!read_patterns(claims, "subscribe", id.subscribe) ||
        !read_patterns(claims, "publish", publish)) {
        return errc::unauthorized;
    }
    // Absent publish claim = may publish nowhere (only publish keys publish anywhere).
    id.publish = publish ? std::move(publish) : std::vector<hub::TopicPattern>{};
    return id;
}

boost::json::array to_json_array(const std::vector<std::string>& items) {
    boost::json::array out;
    for (const auto& s : items) {
        out.emplace_back(s);
    }
    return out;
}

} // namespace

Authenticator::Authenticator(config::AuthConfig cfg, bool anonymous_allowed, const Clock& clock,
                             const KeySet* keys)
    : cfg_(std::move(cfg)), anonymous_allowed_(anonymous_allowed), clock_(clock), keys_(keys) {}

result<Identity> Authenticator::verify_jwt(std::string_view token) const {
    const auto header = read_jws_header(token);
    if (!header) {
        return errc::unauthorized;
    }
    // SPEC §Keys: the key decides the algorithm. HS256 is checked with the secret only,
    // never with public key material; the public-key algorithms only with a key of their
    // own type; anything else ("none", HS384, RS512) has no key at all.
    result<boost::json::object> claims = errc::unauthorized;
    if (header->alg == "HS256") {
        claims = verify_hs256(token, cfg_.jwt_secret);
    } else if (keys_ != nullptr && asymmetric_alg(header->alg)) {
        claims = verify_asymmetric(token, *header, *keys_);
    }
    if (!claims) {
        return claims.error();
    }
    if (!issuer_and_audience_match(*claims, cfg_.jwt_issuer, cfg_.jwt_audience)) {
        return errc::unauthorized;
    }
    return identity_from_claims(*claims, clock_.system_now());
}

result<Identity> Authenticator::authenticate(const Credentials& creds,
                                             std::string_view client_ip) const {
    // SPEC §Subscribe: header, then query, then cookie; the first present one decides.
    // A token that is present but empty or malformed is refused, never anonymous.
    std::optional<std::string_view> token = bearer_token(creds.authorization);
    if (!token) {
        token = creds.access_token;
    }
    if (!token) {
        token = cookie_value(creds.cookie, kCookieName);
    }
    if (token) {
        return token->empty() ? result<Identity>(errc::unauthorized) : verify_jwt(*token);
    }
    if (!anonymous_allowed_) {
        return errc::unauthorized;
    }
    Identity id;
    id.user_id = "anon:" + std::string(client_ip);
    id.anonymous = true;
    id.subscribe.reset();
    return id;
}

result<Identity> Authenticator::authenticate_publisher(std::string_view authorization) const {
    const auto token = bearer_token(authorization);
    if (!token || token->empty()) {
        return errc::unauthorized;
    }
    // Check every key, without stopping at a match, so timing says nothing about which.
    std::optional<std::size_t> matched;
    for (std::size_t i = 0; i < cfg_.publish_keys.size(); ++i) {
        if (constant_time_equal(*token, cfg_.publish_keys[i]) && !matched) {
            matched = i;
        }
    }
    if (matched) {
        Identity id;
        id.user_id = "publish-key:" + std::to_string(*matched);
        id.publish.reset();
        return id;
    }
    return verify_jwt(*token);
}

bool Authenticator::is_admin(std::string_view authorization) const {
    const auto token = bearer_token(authorization);
    if (!token || token->empty()) {
        return false;
    }
    if (!cfg_.admin_token.empty() && constant_time_equal(*token, cfg_.admin_token)) {
        return true;
    }
    const auto id = verify_jwt(*token);
    return id && id->admin;
}

bool Authenticator::valid_subject(std::string_view sub) {
    return subject_ok(sub);
}

bool Authenticator::may_subscribe(const Identity& who, const hub::TopicPattern& requested) {
    if (!who.subscribe) {
        return true;
    }
    return std::any_of(who.subscribe->begin(), who.subscribe->end(),
                       [&](const hub::TopicPattern& p) { return p.covers(requested); });
}

bool Authenticator::may_publish(const Identity& who, std::string_view topic) {
    if (!who.publish) {
        return true;
    }
    return std::any_of(who.publish->begin(), who.publish->end(),
                       [&](const hub::TopicPattern& p) { return p.matches(topic); });
}

result<std::string> Authenticator::mint(const TokenClaims& claims) const {
    if (cfg_.jwt_secret.empty() || !subject_ok(claims.sub)) {
        return errc::bad_request;
    }
    for (const auto* list : {&claims.subscribe, &claims.publish}) {
        for (const auto& p : *list) {
            if (!hub::TopicPattern::parse(p)) {
                return errc::bad_topic;
            }
        }
    }
    const auto now =
        std::chrono::duration_cast<std::chrono::seconds>(clock_.system_now().time_since_epoch());
    boost::json::object obj;
    obj["sub"] = claims.sub;
    obj["iat"] = now.count();
    if (claims.ttl) {
        obj["exp"] = (now + *claims.ttl).count();
    }
    if (!claims.subscribe.empty()) {
        obj["subscribe"] = to_json_array(claims.subscribe);
    }
    if (!claims.publish.empty()) {
        obj["publish"] = to_json_array(claims.publish);
    }
    if (claims.admin) {
        obj["admin"] = true;
    }
    return sign_hs256(obj, cfg_.jwt_secret);
}

} // namespace ssecast::auth
