#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Side-by-side load comparison of ssecast and nchan (nginx + libnginx-mod-nchan) on loopback,
# driven by ssecast-bench; writes docs/performance.md from the measured JSON lines.
# Usage: bench/compare.sh [--quick] [--runs N] [--out FILE] [--no-install] [--no-profile]
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
QUICK=0
RUNS=3
OUT="$ROOT/docs/performance.md"
INSTALL=1
PROFILE=1
ARGS_ORIG="$*"
while [[ $# -gt 0 ]]; do
  case "$1" in
    --quick) QUICK=1; RUNS=1 ;;
    --runs) RUNS=$2; shift ;;
    --out) OUT=$2; shift ;;
    --no-install) INSTALL=0 ;;
    --no-profile) PROFILE=0 ;;
    -h|--help) sed -n 2,5p "$0"; exit 0 ;;
    *) echo "unknown option $1" >&2; exit 2 ;;
  esac
  shift
done

SSECAST=${SSECAST_BIN_UNDER_TEST:-$ROOT/build/release/ssecast}
BENCH=${SSECAST_BENCH:-}
WORK=$(mktemp -d /tmp/ssecast-compare.XXXXXX)
RESULTS="$WORK/results.jsonl"
LOG="$WORK/compare.log"
PIDS=()
echo "work dir: $WORK" >&2

cleanup() {
  local p
  for p in "${PIDS[@]:-}"; do
    [[ -n "$p" ]] && kill "$p" 2>/dev/null || true
  done
  for p in "${PIDS[@]:-}"; do
    [[ -n "$p" ]] && wait "$p" 2>/dev/null || true
  done
}
trap cleanup EXIT

# ---------------------------------------------------------------- dependencies
if [[ $INSTALL == 1 ]]; then
  pkgs=()
  command -v nginx >/dev/null || pkgs+=(nginx-light)
  [[ -f /usr/lib/nginx/modules/ngx_nchan_module.so ]] || pkgs+=(libnginx-mod-nchan)
  command -v redis-server >/dev/null || pkgs+=(redis-server)
  command -v gnuplot >/dev/null || pkgs+=(gnuplot-nox)
  if [[ ${#pkgs[@]} -gt 0 ]]; then
    echo "installing ${pkgs[*]}" >&2
    DEBIAN_FRONTEND=noninteractive apt-get install -y "${pkgs[@]}" >>"$LOG" 2>&1
  fi
fi
if [[ -z "$BENCH" ]]; then
  # The newest build of the tool (the release preset's or this script's own build dir).
  BENCH=$(ls -t "$ROOT/build/release/bench/ssecast-bench" "$ROOT/build/bench/bench/ssecast-bench" \
    2>/dev/null | head -n1 || true)
fi
if [[ -z "$BENCH" ]]; then
  cmake -S "$ROOT" -B "$ROOT/build/bench" -DCMAKE_BUILD_TYPE=Release >>"$LOG"
  cmake --build "$ROOT/build/bench" --target ssecast-bench floor-server -j2 >>"$LOG"
  BENCH=$ROOT/build/bench/bench/ssecast-bench
fi
FLOOR=$(dirname "$BENCH")/floor-server
if [[ ! -x "$FLOOR" ]]; then
  cmake --build "$(dirname "$(dirname "$BENCH")")" --target floor-server -j2 >>"$LOG"
fi
[[ -x "$SSECAST" ]] || { echo "no ssecast binary at $SSECAST (build the release preset)" >&2; exit 1; }

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
wait_port() { # wait_port PORT: up to 10 s
  for _ in $(seq 1 100); do
    (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0
    sleep 0.1
  done
  echo "port $1 never opened" >&2; return 1
}
stop_pid() { kill "$1" 2>/dev/null || true; wait "$1" 2>/dev/null || true; }

# ---------------------------------------------------------------- servers
# Each start_* sets SERVER_PIDS (sampled by the bench), SUB_URLS, PUB_ARGS and STOP_PIDS.
export SSECAST_AUTH_PUBLISH_KEYS=k SSECAST_LIMITS_MAX_CONNECTIONS=20000 SSECAST_HTTP_THREADS=2 \
  SSECAST_LOG_LEVEL=warn
JWT_SECRET=bench-secret-0123456789abcdef0123456789abcdef

start_ssecast() {
  local port; port=$(free_port)
  "$SSECAST" serve --listen "127.0.0.1:$port" >>"$WORK/ssecast.log" 2>&1 &
  local pid=$!; PIDS+=("$pid"); wait_port "$port"
  SERVER_PIDS=$pid; STOP_PIDS=("$pid")
  SUB_URLS=(--sub-url "http://127.0.0.1:$port/events?topic={topic}")
  PUB_ARGS=(--pub-url "http://127.0.0.1:$port/publish" --pub-header "Authorization: Bearer k"
    --pub-header "Content-Type: application/json")
}

start_nchan() {
  local port; port=$(free_port)
  local pfx="$WORK/nginx"; mkdir -p "$pfx/logs" "$pfx/tmp"
  cat >"$pfx/nginx.conf" <<CONF
load_module /usr/lib/nginx/modules/ngx_nchan_module.so;
worker_processes auto;
worker_rlimit_nofile 20000;
pid $pfx/nginx.pid;
error_log $pfx/logs/error.log warn;
events { worker_connections 20000; multi_accept on; }
http {
  access_log off;
  client_body_temp_path $pfx/tmp/body; proxy_temp_path $pfx/tmp/proxy;
  fastcgi_temp_path $pfx/tmp/fcgi; uwsgi_temp_path $pfx/tmp/uwsgi; scgi_temp_path $pfx/tmp/scgi;
  keepalive_requests 1000000;
  keepalive_timeout 300s;
  server {
    listen 127.0.0.1:$port;
    location = /pub { nchan_publisher; nchan_channel_id \$arg_id; nchan_message_buffer_length 10000; nchan_message_timeout 1h; }
    location = /sub { nchan_subscriber eventsource; nchan_channel_id \$arg_id; }
  }
}
CONF
  nginx -p "$pfx" -c "$pfx/nginx.conf" -g 'daemon off;' >>"$WORK/nginx.out" 2>&1 &
  local pid=$!; PIDS+=("$pid"); wait_port "$port"
  sleep 0.3
  SERVER_PIDS=$(pgrep -P "$pid" -d, || true) # the workers: they hold the connections
  STOP_PIDS=("$pid")
  SUB_URLS=(--sub-url "http://127.0.0.1:$port/sub?id={topic}")
  PUB_ARGS=(--pub-url "http://127.0.0.1:$port/pub?id={topic}" --pub-body-template '{payload}')
}

# The yardstick (bench/floor_server.cpp): the kernel's share of every delivery, nothing else.
start_floor() {
  local port; port=$(free_port)
  "$FLOOR" "$port" 2 >>"$WORK/floor.log" 2>&1 &
  local pid=$!; PIDS+=("$pid"); wait_port "$port"
  SERVER_PIDS=$pid; STOP_PIDS=("$pid")
  SUB_URLS=(--sub-url "http://127.0.0.1:$port/sub?id={topic}")
  PUB_ARGS=(--pub-url "http://127.0.0.1:$port/pub?id={topic}" --pub-body-template '{payload}')
}

REDIS_PORT=""
start_redis() {
  [[ -n "$REDIS_PORT" ]] && return 0
  REDIS_PORT=$(free_port)
  redis-server --port "$REDIS_PORT" --bind 127.0.0.1 --save '' --appendonly no \
    --daemonize no >"$WORK/redis.log" 2>&1 &
  REDIS_PID=$!; PIDS+=("$REDIS_PID"); wait_port "$REDIS_PORT"
}

# start_ssecast_redis N [all]: N instances on one Redis; subscribers on the last N-1 (or the
# only one; or on all N with "all"), publishes on the first; so with 2 instances every
# delivery crosses Redis.
start_ssecast_redis() {
  local n=$1 all=${2:-} i port pids=() subs=()
  start_redis
  redis-cli -p "$REDIS_PORT" flushall >/dev/null
  local token
  token=$(SSECAST_AUTH_JWT_SECRET=$JWT_SECRET "$SSECAST" token --sub bench --ttl 3600)
  STOP_PIDS=()
  for ((i = 0; i < n; i++)); do
    port=$(free_port)
    SSECAST_AUTH_JWT_SECRET=$JWT_SECRET "$SSECAST" serve --listen "127.0.0.1:$port" \
      --redis "redis://127.0.0.1:$REDIS_PORT" >>"$WORK/ssecast-redis.log" 2>&1 &
    local pid=$!; PIDS+=("$pid"); STOP_PIDS+=("$pid"); pids+=("$pid")
    wait_port "$port" || return 1
    if [[ $i == 0 ]]; then
      PUB_ARGS=(--pub-url "http://127.0.0.1:$port/publish" --pub-header "Authorization: Bearer k"
        --pub-header "Content-Type: application/json")
    fi
    if [[ $n == 1 || $i -gt 0 || -n "$all" ]]; then
      subs+=(--sub-url "http://127.0.0.1:$port/events?topic={topic}&access_token=$token")
    fi
  done
  SERVER_PIDS=$(IFS=,; echo "${pids[*]}")
  SUB_URLS=("${subs[@]}")
}

stop_server() {
  local p; for p in "${STOP_PIDS[@]}"; do stop_pid "$p"; done
}

# ---------------------------------------------------------------- scenarios
# name subs events rate bytes extra-bench-args
if [[ $QUICK == 1 ]]; then
  SCENARIOS=(
    "idle 1000 0 0 256"
    "fanout 200 200 100 256"
    "bigfanout 1000 100 50 256 --procs 2"
    "latency 200 40 20 256"
  )
  CROSS="cross 200 40 20 256"
else
  SCENARIOS=(
    "idle 10000 0 0 256 --settle 2"
    "fanout 2000 2000 200 256"
    "bigfanout 10000 500 50 256 --procs 2"
    "latency 2000 200 20 256"
  )
  CROSS="cross 2000 200 20 256"
fi

run_bench() { # run_bench label scenario-spec...
  local label=$1 name subs events rate bytes; shift
  read -r name subs events rate bytes extra <<<"$*"
  # shellcheck disable=SC2086
  echo "$label: ssecast-bench --json --label $label --subs $subs --events $events --rate $rate --bytes $bytes --duration 90 --drain 20 ${SUB_URLS[*]} ${PUB_ARGS[*]} --server-pid $SERVER_PIDS $extra" >>"$WORK/commands.txt"
  timeout 300 "$BENCH" --json --label "$label" --subs "$subs" --events "$events" --rate "$rate" \
    --bytes "$bytes" --duration 90 --drain 20 "${SUB_URLS[@]}" "${PUB_ARGS[@]}" \
    --server-pid "$SERVER_PIDS" $extra >>"$RESULTS" 2>>"$LOG" || true
  tail -n1 "$RESULTS" >&2
}

load() { cut -d' ' -f1 /proc/loadavg; }
LOAD_BEFORE=$(cat /proc/loadavg)
date -u +%FT%TZ >"$WORK/started"

for spec in "${SCENARIOS[@]}"; do
  name=${spec%% *}
  for ((r = 1; r <= RUNS; r++)); do
    servers=(ssecast nchan floor) # A B C A B C: each server fresh for each run
    [[ $name == idle ]] && servers=(ssecast nchan)
    for srv in "${servers[@]}"; do
      "start_$srv"
      echo "== $name/$srv/$r (load $(load))" >&2
      run_bench "$name/$srv/$r" "$spec"
      stop_server
      sleep 0.5
    done
  done
done

# Cross-instance: memory mode vs redis mode with 1 instance vs 2 instances (subscribers on
# the second, publishes on the first). Only if redis mode serves a lossless smoke run.
REDIS_OK=0
if command -v redis-server >/dev/null && start_ssecast_redis 2 2>>"$LOG"; then
  if timeout 60 "$BENCH" --json --label redis-smoke --subs 10 --events 10 --rate 50 \
      "${SUB_URLS[@]}" "${PUB_ARGS[@]}" --duration 20 >"$WORK/redis-smoke.json" 2>>"$LOG"; then
    REDIS_OK=1
  fi
  stop_server
fi
echo "redis mode usable: $REDIS_OK" >&2
if [[ $REDIS_OK == 1 ]]; then
  for ((r = 1; r <= RUNS; r++)); do
    for mode in memory redis1 redis2; do
      case $mode in
        memory) start_ssecast ;;
        redis1) start_ssecast_redis 1 ;;
        redis2) start_ssecast_redis 2 ;;
      esac
      echo "== cross/$mode/$r (load $(load))" >&2
      run_bench "cross/$mode/$r" "$CROSS"
      stop_server
      sleep 0.5
    done
  done
fi

# ---------------------------------------------------------------- capacity (ssecast only)
# Idle streams one instance holds under the 20,000 open-file limit, and five redis-mode
# instances together. Each process asks for exactly the room its limit leaves: the limit
# minus the descriptors it holds before any client comes (listeners, epoll, Redis, logs).
fd_room() { # fd_room PID...: the smallest (open-file limit - open files) of these processes
  local p min="" room
  for p in "$@"; do
    room=$(( $(awk '/Max open files/ {print $4}' "/proc/$p/limits") - $(ls "/proc/$p/fd" | wc -l) ))
    if [[ -z $min || $room -lt $min ]]; then min=$room; fi
  done
  echo "$min"
}
start_ssecast
if [[ $QUICK == 1 ]]; then CAP1=2000; else CAP1=$(fd_room "$SERVER_PIDS"); fi
echo "== capacity/memory1/1 (load $(load))" >&2
run_bench "capacity/memory1/1" "capacity $CAP1 0 0 256 --settle 2 --procs 2 --connect-concurrency 512"
stop_server
if [[ $REDIS_OK == 1 ]]; then
  start_ssecast_redis 5 all
  sleep 1 # let every instance open its Redis connections
  # shellcheck disable=SC2046
  if [[ $QUICK == 1 ]]; then CAP5=5000; else CAP5=$(( 5 * $(fd_room ${SERVER_PIDS//,/ }) )); fi
  echo "== capacity/redis5/1 (load $(load))" >&2
  run_bench "capacity/redis5/1" "capacity $CAP5 0 0 256 --settle 2 --procs 6 --connect-concurrency 512"
  stop_server
fi

# ---------------------------------------------------------------- profile (latency)
# Flat cpu-clock profiles (this VM exposes no hardware counters) of the three servers under
# the latency scenario, the one whose target is hardest: where each spends its CPU per
# delivery, and how much of it is the kernel's, which no server can avoid.
PROFILE_TXT="$WORK/profile.txt"
: >"$PROFILE_TXT"
if [[ $PROFILE == 1 ]] && command -v perf >/dev/null; then
  for srv in ssecast nchan floor; do
    "start_$srv"
    perf record -e cpu-clock -F 2000 -p "$SERVER_PIDS" -o "$WORK/perf-$srv.data" >>"$LOG" 2>&1 &
    PERF_PID=$!
    sleep 0.5
    run_bench "profile/$srv/1" "${SCENARIOS[3]}"
    kill -INT "$PERF_PID" 2>/dev/null || true
    wait "$PERF_PID" 2>/dev/null || true
    stop_server
    {
      if [[ $srv != floor ]]; then
        echo "### $srv: perf report --no-children --sort dso,symbol (top 25)"
        perf report -i "$WORK/perf-$srv.data" --no-children --sort dso,symbol --stdio 2>/dev/null |
          grep -E '^ +[0-9]' | head -25 | cut -c1-150
      fi
      echo "### $srv: share by dso"
      perf report -i "$WORK/perf-$srv.data" --no-children --sort dso --stdio 2>/dev/null |
        grep -E '^ +[0-9]' | head -8
    } >>"$PROFILE_TXT" || true
  done
fi

# ---------------------------------------------------------------- report
COMMAND="bench/compare.sh${ARGS_ORIG:+ $ARGS_ORIG}"
python3 "$ROOT/bench/report.py" --results "$RESULTS" --out "$OUT" --runs "$RUNS" \
  --quick "$QUICK" --command "$COMMAND" --bench "$BENCH" --ssecast "$SSECAST" \
  --load-before "$LOAD_BEFORE" --load-after "$(cat /proc/loadavg)" --profile "$PROFILE_TXT" \
  --work "$WORK"
echo "wrote $OUT (raw results: $RESULTS)" >&2
