// SPDX-License-Identifier: MIT
// Who is calling and what may they do: JWT identities (HS256 secret, or RS256/ES256/EdDSA
// keys from a JWKS), publish keys, admin token, topic-pattern permissions (SPEC §Subscribe,
// §Keys, §Publish, §sse-monitor).
#pragma once

#include "auth/key_set.hpp"
#include "common/clock.hpp"
#include "common/errc.hpp"
#include "config/config.hpp"
#include "hub/topic.hpp"

#include <chrono>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace ssecast::auth {

/// The caller of GET /events, POST /publish or the admin API.
struct Identity {
    std::string user_id;    ///< JWT `sub`, or "anon:<client-ip>"
    bool anonymous = false; ///< no token was given
    bool admin = false;     ///< JWT `"admin": true` or the admin token
    /// JWT `subscribe` claim; nullopt = any topic (claim absent).
    std::optional<std::vector<hub::TopicPattern>> subscribe;
    /// Topics this caller may publish to; nullopt = any (a publish key); empty = none.
    std::optional<std::vector<hub::TopicPattern>> publish = std::vector<hub::TopicPattern>{};
    /// JWT `exp` (or the connect hook's expires_in): an open stream ends at this instant
    /// (SPEC §Expiry on open streams). nullopt = never.
    std::optional<std::chrono::system_clock::time_point> expires_at{};
};

/// Where a subscriber's token may come from (SPEC: header, query, cookie, in that order).
struct Credentials {
    std::string_view authorization; ///< the raw Authorization header value, or ""
    /// The access_token query parameter; nullopt when absent. Present but empty (or given
    /// twice, which the caller passes as "") is a malformed token: refused.
    std::optional<std::string_view> access_token;
    std::string_view cookie; ///< the raw Cookie header value, or ""
};

/// Claims for minting a token (the `ssecast token` CLI and tests).
/// Every member has a default so designated initializers may name only some of them.
struct TokenClaims {
    std::string sub{};                         ///< required, 1..256 bytes, no control chars
    std::vector<std::string> subscribe{};      ///< topic patterns; empty = claim omitted
    std::vector<std::string> publish{};        ///< topic patterns; empty = claim omitted
    bool admin = false;                        ///< false = claim omitted
    std::optional<std::chrono::seconds> ttl{}; ///< sets exp = now + ttl; nullopt = no exp
};

/// Verifies credentials. Immutable after construction; safe to call from every shard
/// concurrently. Never throws on bad input: every failure is an errc value.
class Authenticator {
  public:
    /// `keys` (may be null: HS256 only) holds the public keys for RS256/ES256/EdDSA tokens;
    /// it must outlive this object and may be refilled concurrently.
    Authenticator(config::AuthConfig cfg, bool anonymous_allowed, const Clock& clock,
                  const KeySet* keys = nullptr);

    /// Identity of a subscriber. No token: anonymous "anon:<client_ip>" when allowed, else
    /// errc::unauthorized. A token that is present but invalid (empty, malformed Bearer
    /// header, bad signature, an alg no configured key has — `none`, HS384, HS256 without
    /// auth.jwt_secret, RS256 naming an EC key's kid — expired `exp`, missing `sub`, a `sub`
    /// starting with a reserved prefix "anon:" or "publish-key:", `iss`/`aud` other than
    /// auth.jwt_issuer/jwt_audience when set, bad claim types) is errc::unauthorized even when
    /// anonymous access is allowed; errc::unknown_key when the token's kid is in no key set
    /// (the caller may refresh the JWKS once and ask again).
    result<Identity> authenticate(const Credentials& creds, std::string_view client_ip) const;

    /// Identity of a publisher from `Authorization: Bearer <key|jwt>`: a configured publish
    /// key may publish anywhere (publish = nullopt); a JWT gets its `publish` claim
    /// (absent claim = may publish nowhere). errc::unauthorized otherwise.
    result<Identity> authenticate_publisher(std::string_view authorization) const;

    /// True for `Bearer <auth.admin_token>` (constant-time compare) or a valid JWT with
    /// `"admin": true`. Never true when neither is configured.
    bool is_admin(std::string_view authorization) const;

    /// SPEC 403: may `who` subscribe to `requested`? (claim absent = yes)
    static bool may_subscribe(const Identity& who, const hub::TopicPattern& requested);
    /// May `who` publish to the exact `topic`?
    static bool may_publish(const Identity& who, std::string_view topic);

    /// A user id ssecast accepts (JWT `sub`, connect hook `user`): 1..256 bytes, no control
    /// characters, not starting with "anon:" or "publish-key:".
    static bool valid_subject(std::string_view sub);

    /// Mints an HS256 JWT with the configured secret; errc::bad_request without a secret.
    result<std::string> mint(const TokenClaims& claims) const;

  private:
    result<Identity> verify_jwt(std::string_view token) const;

    config::AuthConfig cfg_;
    bool anonymous_allowed_;
    const Clock& clock_;
    const KeySet* keys_;
};

} // namespace ssecast::auth
