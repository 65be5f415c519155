// SPDX-License-Identifier: MIT
// The life of one SSE stream after its request was accepted: headers, retry line, replay,
// live events, heartbeats, slow-consumer cut-off, drain.
#pragma once

#include "broker/broker.hpp"
#include "config/config.hpp"
#include "http/admission.hpp"
#include "http/subscribe_request.hpp"
#include "hub/shard.hpp"

#include <boost/asio/awaitable.hpp>
#include <boost/asio/ip/tcp.hpp>

#include <string>
#include <utility>
#include <vector>

namespace ssecast::http {

/// The head of every SSE response (200, text/event-stream, no caching, close-delimited)
/// with `extra` headers; the retry line is the caller's.
std::string response_head(const Headers& extra);

/// Streams events to `socket` until the client leaves, it is cut as a slow consumer or the
/// server drains. Reads `cfg` (sse.*, limits.max_queue_bytes) and `broker` (replay,
/// unwatch), both outliving it. Runs on `shard`'s thread; owns the socket and `slot`
/// (admit_stream's), which it releases when it ends, after leaving the hub and unwatching its
/// topics. Registers with the hub before reading history (SPEC §Resume: replay, then live; no gap,
/// no duplicate).
boost::asio::awaitable<void> stream_events(boost::asio::ip::tcp::socket socket,
                                           SubscribeRequest sub, StreamSlot slot, Headers extra,
                                           const config::Config& cfg, broker::Broker& broker,
                                           hub::Shard& shard);

/// Periodic per-shard work, so that no stream needs a timer of its own: sends a heartbeat
/// on every stream that has written nothing for `heartbeat`, and cuts streams whose frames
/// have waited for socket space longer than `stuck_after` (the peer stopped reading or
/// vanished). Call on the shard's thread.
void sweep_streams(hub::Shard& shard, std::chrono::steady_clock::duration heartbeat,
                   std::chrono::steady_clock::duration stuck_after);

} // namespace ssecast::http
