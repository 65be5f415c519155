#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Smoke run of ssecast-bench against a fresh ssecast (memory mode): 50 subscribers, 50 events;
# fails unless every subscriber connects and every delivery arrives (the tool exits 3 on loss).
# Usage: bench/smoke.sh path/to/ssecast path/to/ssecast-bench
set -euo pipefail
SSECAST=$1
BENCH=$2
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
SSECAST_AUTH_PUBLISH_KEYS=k SSECAST_LOG_LEVEL=warn "$SSECAST" serve --listen "127.0.0.1:$PORT" &
PID=$!
trap 'kill $PID 2>/dev/null || true; wait $PID 2>/dev/null || true' EXIT
for _ in $(seq 1 100); do
  (exec 3<>"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null && break
  sleep 0.1
done
"$BENCH" --label smoke --subs 50 --events 50 --rate 200 --bytes 64 --duration 30 --drain 5 \
  --src-addrs 2 --sub-url "http://127.0.0.1:$PORT/events?topic={topic}" \
  --pub-url "http://127.0.0.1:$PORT/publish" --pub-header "Authorization: Bearer k" \
  --server-pid "$PID"
