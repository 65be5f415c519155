// SPDX-License-Identifier: MIT
// POST /publish: the body checked by the shared validator (publish/publish_body.hpp), then
// the publisher's topic permissions. No I/O.
#pragma once

#include "auth/authenticator.hpp"
#include "http/failure.hpp"
#include "publish/publish_body.hpp"

#include <optional>
#include <string_view>

namespace ssecast::http {

/// Most events accepted in one array body (the same limit as the ingest list).
inline constexpr std::size_t kMaxEventsPerPublish = publish::kMaxEventsPerBody;

using PublishBatch = publish::Body;

/// publish::parse_body (format, limits, unknown fields, `id`, inexact numbers), then every
/// topic must be one `who` may publish to (errc::forbidden naming "[i].topics[j]"). Returns
/// the first failure, naming the field, or nullopt with `out` filled.
std::optional<Failure> parse_publish(std::string_view body, const publish::Limits& limits,
                                     const auth::Identity& who, PublishBatch& out);

} // namespace ssecast::http
