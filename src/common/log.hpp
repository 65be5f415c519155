// SPDX-License-Identifier: MIT
// Logging goes through spdlog (fmt 9 syntax); this header only sets it up once.
#pragma once

#include <spdlog/spdlog.h>

#include <string_view>

namespace ssecast {

/// Configure the default logger: level name ("info", "debug"...), one line per record
/// on stderr with time, level and thread. Call once from main before threads start.
void init_logging(std::string_view level);

} // namespace ssecast

/// Invariant tiers (Envoy style): ASSERT = debug only, BUG = log + count, CHECK = abort.
#define SSECAST_CHECK(cond, msg)                                                                   \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            spdlog::critical("check failed: {} ({}:{}): {}", #cond, __FILE__, __LINE__, msg);      \
            std::abort();                                                                          \
        }                                                                                          \
    } while (0)
