// SPDX-License-Identifier: MIT
// What this binary is: version, the commit it was built from, and its source tree.
#pragma once

#include <string>
#include <string_view>

namespace ssecast::app {

/// The project version from CMakeLists.txt ("0.1.0").
std::string_view version();

/// The git commit the binary was built from (`git describe --always --dirty`, so a build of
/// a tree with uncommitted changes ends in "-dirty"), $SSECAST_COMMIT for package builds of
/// an exported tree, or "unknown". Only src/app/version.cpp changes with it (ccache-friendly).
std::string_view commit();

/// The source tree the binary was configured from: a last fallback for web/admin/dist
/// when running from a build folder.
std::string_view source_dir();

/// `ssecast --version` output: "ssecast 0.1.0 (commit b9db84d…)".
std::string version_line();

} // namespace ssecast::app
