// SPDX-License-Identifier: MIT
// hiredis 0.14 ↔ Asio glue, written like hiredis' own adapters/libuv.h: the context's
// socket is watched by a posix::stream_descriptor, and hiredis' five event hooks
// (addRead/delRead/addWrite/delWrite/cleanup) arm or disarm readiness waits on it.
#pragma once

#include <boost/asio/io_context.hpp>

struct redisAsyncContext;

namespace ssecast::redis {

/// Attaches `ac` to `ioc`. From then on every hiredis read/write/callback of `ac` runs on
/// a thread running `ioc` (ssecast runs it on one thread only: shard 0's loop).
///  - at most one async_wait is in flight per direction; a wait that completes after its
///    direction was disarmed (delRead/delWrite) is ignored;
///  - `cleanup` (called by hiredis from redisAsyncFree, possibly inside
///    redisAsyncHandleRead) cancels the waits and *releases* the fd: hiredis closes it;
///  - the adapter state is reference-counted by the pending waits, so a hook running
///    inside a hiredis call that frees the context never touches freed memory.
/// Returns false if `ac` already has an event library attached or its fd is invalid.
bool attach(redisAsyncContext* ac, boost::asio::io_context& ioc);

} // namespace ssecast::redis
