// SPDX-License-Identifier: MIT
// load_config on a fuzzed TOML file: it returns a Config or throws ConfigError, nothing
// else (an escaped exception aborts the process, which libFuzzer reports).
#include "config/loader.hpp"

#include <unistd.h>

#include <cstdio>
#include <string>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    static const std::string path = [] {
        const char* dir = std::getenv("TMPDIR");
        return std::string(dir ? dir : "/tmp") + "/ssecast-fuzz-config-" +
               std::to_string(::getpid()) + ".toml";
    }();
    if (std::FILE* f = std::fopen(path.c_str(), "wb")) {
        std::fwrite(data, 1, size, f);
        std::fclose(f);
    } else {
        return 0;
    }
    ssecast::config::Overrides flags;
    flags.config_path = path;
    try {
        const auto cfg = ssecast::config::load_config(flags, {});
        if (cfg.limits.max_event_bytes > cfg.limits.max_body_bytes) {
            __builtin_trap(); // check_consistency promised this
        }
    } catch (const ssecast::config::ConfigError&) {
    }
    return 0;
}
