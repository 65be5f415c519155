// SPDX-License-Identifier: MIT
// The connect hook's answer (SPEC §Connect hook) → Identity, enforced like JWT claims.
// Pure: the HTTP call is http/connect_hook.cpp's job.
#pragma once

#include "auth/authenticator.hpp"
#include "common/errc.hpp"

#include <chrono>
#include <cstddef>
#include <string_view>

namespace ssecast::auth {

/// Hook answers longer than this are refused unread (a session check is a few hundred bytes).
inline constexpr std::size_t kMaxHookReplyBytes = 64 * 1024;
/// The most topic patterns one answer may grant.
inline constexpr std::size_t kMaxHookTopics = 1024;

/// The identity a hook answer grants: 200 with `{"user": "...", "topics": [...patterns],
/// "expires_in": S}` (`topics` absent = any topic, like an absent `subscribe` claim;
/// `expires_in` absent = no expiry, else a positive number of seconds from `now`; other
/// members ignored). 401 → errc::unauthorized, 403 → errc::forbidden. Every other status,
/// and a 200 whose body is not such an object (non-JSON, a user that Authenticator::
/// valid_subject refuses, a topic that is not a valid pattern, more than kMaxHookTopics,
/// `expires_in` ≤ 0 or not a number) → errc::auth_unavailable: a broken hook never lets a
/// request through. Never throws.
result<Identity> parse_hook_reply(unsigned status, std::string_view body,
                                  std::chrono::system_clock::time_point now);

} // namespace ssecast::auth
