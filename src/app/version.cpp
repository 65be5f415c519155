// SPDX-License-Identifier: MIT
// The build-specific strings, kept in this one small file so that every other file compiles
// the same in every build folder and at every commit (ccache hits across builds).
#include "app/version.hpp"

#include "app/commit.hpp" // generated: SSECAST_COMMIT

namespace ssecast::app {

std::string_view version() {
    return SSECAST_VERSION;
}

std::string_view commit() {
    return SSECAST_COMMIT;
}

std::string_view source_dir() {
    return SSECAST_SOURCE_DIR;
}

std::string version_line() {
    return "ssecast " + std::string(version()) + " (commit " + std::string(commit()) + ")";
}

} // namespace ssecast::app
