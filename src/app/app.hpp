// SPDX-License-Identifier: MIT
// App: owns the event loops (one shard per core), picks the memory or redis backends once,
// listens, handles SIGTERM/SIGINT with a bounded drain.
#pragma once

#include "config/config.hpp"

namespace ssecast::app {

/// Runs the server described by `cfg` until a signal drains it. Returns the process exit
/// code (0 after a clean drain). Throws std::runtime_error at start-up only (cannot bind,
/// bad trusted_proxies…), with a message naming the cause.
int run_server(const config::Config& cfg);

} // namespace ssecast::app
