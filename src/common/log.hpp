// SPDX-License-Identifier: MIT
// Logging goes through spdlog (fmt 9 syntax); this header only sets it up once.
#pragma once

#include <spdlog/spdlog.h>

#include <string_view>

namespace ssecast {

/// Configure the default logger: level name ("info", "debug"...), one record per line on
/// stderr with time, level, thread and message. `format` "json" writes each record as one
/// JSON object with those four fields ({"time","level","thread","message"}); anything else
/// is the text form `time level [thread] message`. Call once from main before threads start.
void init_logging(std::string_view level, std::string_view format = "text");

} // namespace ssecast
