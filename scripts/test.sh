#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# One command from a fresh Debian 12 (as root): install, build, and run every test:
# format check, unit + integration tests (release), the JS package and browser tests, then
# unit + integration tests again under AddressSanitizer + UBSan, and the concurrency-heavy
# ones under ThreadSanitizer.
set -euo pipefail
cd "$(dirname "$0")/.."
export SSECAST_WITH_BROWSER=1
scripts/setup.sh

step() { printf '\n=== %s ===\n' "$*"; }

step "format (clang-format)"
git ls-files -- 'src/*.cpp' 'src/*.hpp' | xargs clang-format --dry-run --Werror

step "build (release)"
scripts/build.sh release
scripts/build-web.sh

step "unit tests (release)"
ctest --test-dir build/release --output-on-failure -j2

step "integration tests (release binary, real sockets, real redis-server)"
SSECAST_BIN=build/release/ssecast /usr/bin/python3 -m pytest -q -p no:cacheprovider \
  --timeout=300 tests/integration

if [[ -f clients/js/package.json ]]; then
  step "client package: typecheck + unit tests"
  (cd clients/js && npm run --silent check)
  step "browser end-to-end (Debian chromium + playwright-core)"
  (cd clients/js && SSECAST_BIN="$PWD/../../build/release/ssecast" npm run --silent e2e)
fi
if [[ -f web/admin/package.json ]]; then
  (cd web/admin && npm run --silent check)
fi

step "fuzz: every libFuzzer target for 10 s (docs/reliability.md has the long runs)"
scripts/fuzz.sh 10

step "build (asan: AddressSanitizer + UBSan)"
scripts/build.sh asan

step "unit tests (asan)"
ctest --test-dir build/asan --output-on-failure -j2

step "integration tests (asan binary)"
SSECAST_BIN=build/asan/ssecast ASAN_OPTIONS=detect_leaks=1 \
  /usr/bin/python3 -m pytest -q -p no:cacheprovider --timeout=600 tests/integration

step "ThreadSanitizer: threaded unit tests + concurrency-heavy integration tests"
scripts/tsan.sh

step "all tests passed"
