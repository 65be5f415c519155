// SPDX-License-Identifier: MIT
// HS256 JSON Web Tokens over libjwt 1.10: signature and algorithm only. Claim semantics
// (exp, sub, topic patterns) live in authenticator.cpp.
#pragma once

#include "common/errc.hpp"

#include <boost/json/object.hpp>

#include <cstddef>
#include <string>
#include <string_view>

namespace ssecast::auth {

/// Tokens longer than this are refused before any parsing (SPEC: bounded work per request).
inline constexpr std::size_t kMaxTokenBytes = 8 * 1024;

/// Verifies `token` as a compact JWS whose header says `"alg": "HS256"` and whose
/// signature is valid for `secret`, and returns its claim set (a JSON object).
/// errc::unauthorized for: an empty secret, a token over kMaxTokenBytes, malformed
/// base64/JSON, any other alg (including "none" and HS384/HS512 with the right secret),
/// or a wrong signature. Thread-safe; allocates only while it runs.
result<boost::json::object> verify_hs256(std::string_view token, std::string_view secret);

/// Signs `claims` as an HS256 JWT with `secret`. errc::bad_request for an empty secret,
/// errc::internal when libjwt fails (out of memory).
result<std::string> sign_hs256(const boost::json::object& claims, std::string_view secret);

} // namespace ssecast::auth
