// SPDX-License-Identifier: MIT
// The `ssecast` command line: serve, token, publish (CLI11).
#pragma once

namespace ssecast::app {

/// Parses argv, runs the chosen subcommand, returns the exit code. Prints usage errors
/// and start-up errors (naming the config key) to stderr with a non-zero code.
int run_cli(int argc, char** argv, char** envp);

} // namespace ssecast::app
