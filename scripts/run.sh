#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# One command from a fresh Debian 12 (as root): install, build, and run ssecast in memory
# mode on 127.0.0.1:8080. Extra arguments go to `ssecast serve` (e.g. --config FILE).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
scripts/build.sh release
scripts/build-web.sh
echo "ssecast: open http://127.0.0.1:8080/ (demo) and http://127.0.0.1:8080/admin"
exec build/release/ssecast serve "$@"
