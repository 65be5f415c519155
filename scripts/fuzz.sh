#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Builds the libFuzzer targets (tests/fuzz, clang++ with ASan+UBSan) and runs each for
# SECONDS (default 60) on a copy of its seed corpus. Exit status 1 when any target found a
# crash; the reproducer is left in build/fuzz/findings/<target>/.
# Usage: scripts/fuzz.sh [seconds-per-target] [target...]
set -euo pipefail
cd "$(dirname "$0")/.."
seconds="${1:-60}"
shift || true
targets=("$@")
if [[ ${#targets[@]} -eq 0 ]]; then
  targets=(fuzz_sse_encoder fuzz_query fuzz_publish_body fuzz_topic_pattern fuzz_jwt
           fuzz_config fuzz_client_ip fuzz_admin_path fuzz_redis_message fuzz_jwks
           fuzz_hook_reply)
fi
build=build/fuzz
start=$(date +%s)

if ! command -v clang++ >/dev/null; then
  echo "fuzz.sh: clang++ not found (apt-get install -y clang libclang-rt-14-dev)" >&2
  exit 2
fi
cmake -S tests/fuzz -B "$build" -DCMAKE_CXX_COMPILER=clang++ >/dev/null
cmake --build "$build" -j2 --target "${targets[@]}"

status=0
for t in "${targets[@]}"; do
  work="$build/corpus/$t"
  findings="$build/findings/$t"
  mkdir -p "$work" "$findings"
  # Fresh inputs go to the work corpus; the seeds in the repo stay as they are.
  log="$build/$t.log"
  if "$build/$t" "$work" "tests/fuzz/corpus/$t" -max_total_time="$seconds" \
      -max_len=4096 -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
      -artifact_prefix="$findings/" >"$log" 2>&1; then
    result=ok
  else
    result=CRASH
    status=1
  fi
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
  rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -1)
  cov=$(grep -o 'cov: [0-9]*' "$log" | tail -1 | cut -d' ' -f2 || true) # none after an early crash
  printf '%-20s %-5s execs=%-10s exec/s=%-8s cov=%s\n' "$t" "$result" "${execs:-?}" \
    "${rate:-?}" "${cov:-?}"
  if [[ $result == CRASH ]]; then
    grep -E 'ERROR|property violated|SUMMARY|Test unit written' "$log" | head -5 || true
  fi
done
echo "fuzz.sh: $(( $(date +%s) - start )) s in total"
exit $status
