#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Builds build/redis-floor/ssecast: ssecast whose publish script stores nothing
# (bench/redis_floor_publish.lua), the yardstick bench/redis_scale.py runs beside ssecast
# and nchan when it exists. A benchmark build only: it keeps no history; never deploy it.
set -euo pipefail
cd "$(dirname "$0")/.."
export CCACHE_DIR=${CCACHE_DIR:-$HOME/.cache/ccache}
export CCACHE_BASEDIR=$PWD CCACHE_NOHASHDIR=true
cmake -S . -B build/redis-floor -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DSSECAST_BENCH_PUBLISH_LUA="$PWD/bench/redis_floor_publish.lua" >/dev/null
cmake --build build/redis-floor -j2 --target ssecast
echo "built build/redis-floor/ssecast (benchmark floor: stores nothing)"
