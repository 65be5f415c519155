// SPDX-License-Identifier: MIT
// One stderr logger for the whole process.
#include "common/log.hpp"

#include <spdlog/sinks/stdout_sinks.h>

#include <string>

namespace ssecast {

void init_logging(std::string_view level) {
    auto logger = spdlog::stderr_logger_mt("ssecast");
    logger->set_pattern("%Y-%m-%dT%H:%M:%S.%e %^%l%$ [%t] %v");
    logger->set_level(spdlog::level::from_str(std::string(level)));
    spdlog::set_default_logger(logger);
}

} // namespace ssecast
