#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Builds one CMake preset (release by default; also: debug, asan) with -j2 and ccache.
set -euo pipefail
cd "$(dirname "$0")/.."
preset=${1:-release}
export CCACHE_DIR=${CCACHE_DIR:-$HOME/.cache/ccache}
# Cache hits across clones in other folders (CI builds a fresh clone each time).
export CCACHE_BASEDIR=$PWD CCACHE_NOHASHDIR=true
cmake --preset "$preset" >/dev/null
cmake --build --preset "$preset"
