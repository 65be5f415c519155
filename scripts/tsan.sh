#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# ThreadSanitizer run (issue #7 §2): builds the `tsan` preset, runs the unit tests that use
# threads and the concurrency-heavy integration tests against the TSan binary with
# halt_on_error=1, then fails if any server log mentions ThreadSanitizer (a report at
# shutdown would otherwise go unnoticed: the fixtures do not check exit codes).
# The last step of scripts/test.sh; runs alone too.
set -euo pipefail
cd "$(dirname "$0")/.."
export CCACHE_DIR=${CCACHE_DIR:-$HOME/.cache/ccache}
export CCACHE_BASEDIR=$PWD CCACHE_NOHASHDIR=true

supp="$PWD/tests/tsan.supp"
export TSAN_OPTIONS="halt_on_error=1 second_deadlock_stack=1${TSAN_EXTRA:+ $TSAN_EXTRA}"
[[ -f $supp ]] && TSAN_OPTIONS+=" suppressions=$supp"

step() { printf '\n=== %s ===\n' "$*"; }

step "build (tsan)"
cmake --preset tsan >/dev/null
cmake --build build/tsan -j2 --target ssecast hub_test memory_rate_limiter_test \
  history_test redis_test http_test

step "unit tests (tsan)"
ctest --test-dir build/tsan --output-on-failure -j2 \
  -R '^(hub_test|memory_rate_limiter_test|history_test|redis_test|http_test)$'

step "integration tests, concurrency-heavy (tsan binary)"
logs=$(mktemp -d /tmp/ssecast-tsan.XXXXXX)
status=0
TMPDIR=$logs SSECAST_BIN=build/tsan/ssecast /usr/bin/python3 -m pytest -q \
  -p no:cacheprovider --timeout=600 \
  "tests/integration/test_core_publish.py::test_ids_strictly_increase_under_concurrent_publishers" \
  "tests/integration/test_core_resume.py::test_reconnect_seam_under_continuous_publishing" \
  tests/integration/test_rate_limit.py \
  tests/integration/test_redis_fanout.py tests/integration/test_redis_outage.py \
  tests/integration/test_redis_topics.py tests/integration/test_redis_shards.py \
  tests/integration/test_chaos.py || status=$?

if grep -rl --include='ssecast-*.log' "ThreadSanitizer" "$logs" 2>/dev/null; then
  echo "ThreadSanitizer reports in the server logs above (kept in $logs)"
  exit 1
fi
[[ $status -eq 0 ]] || { echo "integration tests failed (logs in $logs)"; exit "$status"; }
rm -rf "$logs"
step "tsan: no data race reported"
