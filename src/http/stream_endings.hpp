// SPDX-License-Identifier: MIT
// How streams end for a reason: `ssecast.token-expired` (SPEC §Expiry on open streams) and
// `ssecast.disconnected` (SPEC §POST /api/admin/disconnect).
#pragma once

#include "broker/control.hpp"
#include "http/server_context.hpp"
#include "hub/event.hpp"

#include <cstddef>
#include <string_view>

namespace ssecast::http {

/// `event: ssecast.token-expired`, data `{}`, no id (not a published event: it must not move
/// the client's Last-Event-ID). Shared, immutable.
const hub::EventPtr& token_expired_frame();
/// `event: ssecast.disconnected`, data `{}`, no id. Shared, immutable.
const hub::EventPtr& disconnected_frame();

/// SPEC §POST /api/admin/disconnect, on one shard: finishes every stream of `order.user`, or
/// the stream `order.connection` names when it is "<instance_id>:<n>", with
/// disconnected_frame() after what it has queued; returns how many. Call on the shard's
/// thread.
std::size_t disconnect_streams(hub::Shard& shard, const broker::DisconnectOrder& order,
                               std::string_view instance_id);

} // namespace ssecast::http
