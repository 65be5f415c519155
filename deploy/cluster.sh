#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Local multi-instance ssecast: one redis-server, three ssecast instances and nginx as the
# load balancer, all on 127.0.0.1 (docs/deploy.md §Local cluster).
#
#   deploy/cluster.sh start    start everything (installs Debian's nginx if missing)
#   deploy/cluster.sh stop     stop everything this script started (by PID)
#   deploy/cluster.sh status   show what runs
#
# Environment: SSECAST_BIN (default build/release/ssecast), CLUSTER_DIR (default
# /tmp/ssecast-cluster), LB_PORT (8000), INSTANCE_PORTS ("8001 8002 8003"), REDIS_PORT (6390).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BIN="${SSECAST_BIN:-$ROOT/build/release/ssecast}"
RUN="${CLUSTER_DIR:-/tmp/ssecast-cluster}"
LB_PORT="${LB_PORT:-8000}"
read -r -a PORTS <<< "${INSTANCE_PORTS:-8001 8002 8003}"
REDIS_PORT="${REDIS_PORT:-6390}"

log() { printf 'cluster: %s\n' "$*"; }

wait_http() { # url what
    for _ in $(seq 1 100); do
        if curl -fsS -o /dev/null "$1" 2>/dev/null; then return 0; fi
        sleep 0.1
    done
    log "$2 did not come up (logs in $RUN)"; return 1
}

stop_pid() { # pidfile
    [[ -f "$1" ]] || return 0
    local pid; pid="$(cat "$1")"
    if kill -0 "$pid" 2>/dev/null; then
        kill -TERM "$pid"
        for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
        kill -0 "$pid" 2>/dev/null && kill -KILL "$pid"
    fi
    rm -f "$1"
}

start() {
    [[ -x "$BIN" ]] || { log "no ssecast binary at $BIN (build it, or set SSECAST_BIN)"; exit 1; }
    command -v redis-server >/dev/null || { log "redis-server missing: apt-get install -y redis-server"; exit 1; }
    if ! command -v nginx >/dev/null && [[ ! -x /usr/sbin/nginx ]]; then
        log "installing nginx (Debian package)"
        DEBIAN_FRONTEND=noninteractive apt-get install -y nginx >/dev/null
    fi
    NGINX="$(command -v nginx || echo /usr/sbin/nginx)"
    mkdir -p "$RUN/nginx-tmp" "$RUN/redis"
    if [[ -f "$RUN/redis.pid" ]] && kill -0 "$(cat "$RUN/redis.pid")" 2>/dev/null; then
        log "already running (deploy/cluster.sh stop first)"; exit 1
    fi

    # Demo secrets, made once per cluster directory.
    if [[ ! -f "$RUN/secrets.env" ]]; then
        rnd() { head -c 24 /dev/urandom | base64 | tr -dc 'A-Za-z0-9' | head -c 32; }
        { echo "SSECAST_AUTH_JWT_SECRET=$(rnd)"; echo "SSECAST_AUTH_PUBLISH_KEYS=pub-$(rnd)";
          echo "SSECAST_AUTH_ADMIN_TOKEN=adm-$(rnd)"; } > "$RUN/secrets.env"
        chmod 600 "$RUN/secrets.env"
    fi
    set -a; source "$RUN/secrets.env"; set +a

    redis-server --port "$REDIS_PORT" --bind 127.0.0.1 --dir "$RUN/redis" \
        --save "" --appendonly yes --appendfsync everysec \
        --maxmemory 256mb --maxmemory-policy noeviction \
        --logfile "$RUN/redis.log" --daemonize no &
    echo $! > "$RUN/redis.pid"
    for _ in $(seq 1 50); do redis-cli -p "$REDIS_PORT" ping >/dev/null 2>&1 && break; sleep 0.1; done
    log "redis-server on 127.0.0.1:$REDIS_PORT (pid $(cat "$RUN/redis.pid"))"

    local i=0
    for port in "${PORTS[@]}"; do
        i=$((i + 1))
        SSECAST_REDIS_INSTANCE_ID="node$i" "$BIN" serve --config "$ROOT/deploy/ssecast.toml" \
            --listen "127.0.0.1:$port" --redis "redis://127.0.0.1:$REDIS_PORT" \
            > "$RUN/ssecast-$i.log" 2>&1 &
        echo $! > "$RUN/ssecast-$i.pid"
    done
    i=0
    for port in "${PORTS[@]}"; do
        i=$((i + 1))
        wait_http "http://127.0.0.1:$port/readyz" "ssecast node$i"
        log "ssecast node$i on 127.0.0.1:$port (pid $(cat "$RUN/ssecast-$i.pid"))"
    done

    sed -e "s|@RUN@|$RUN|g" -e "s|@LB_PORT@|$LB_PORT|g" -e "s|@PORT1@|${PORTS[0]}|g" \
        -e "s|@PORT2@|${PORTS[1]}|g" -e "s|@PORT3@|${PORTS[2]}|g" \
        "$ROOT/deploy/nginx.conf.in" > "$RUN/nginx.conf"
    "$NGINX" -p "$RUN" -c "$RUN/nginx.conf" -e "$RUN/nginx-error.log" -g 'daemon off;' &
    echo $! > "$RUN/nginx-main.pid"
    wait_http "http://127.0.0.1:$LB_PORT/healthz" "nginx"
    log "nginx load balancer on http://127.0.0.1:$LB_PORT"
    cat <<INFO

  publish key : $SSECAST_AUTH_PUBLISH_KEYS
  admin token : $SSECAST_AUTH_ADMIN_TOKEN   (http://127.0.0.1:$LB_PORT/admin)
  a JWT       : SSECAST_AUTH_JWT_SECRET=\$(grep JWT $RUN/secrets.env | cut -d= -f2) $BIN token --sub alice

  curl -N "http://127.0.0.1:$LB_PORT/events?topic=demo&access_token=<JWT>"
  curl -H "Authorization: Bearer $SSECAST_AUTH_PUBLISH_KEYS" -d '{"topic":"demo","data":"hi"}' \\
       http://127.0.0.1:$LB_PORT/publish
  redis-cli -p $REDIS_PORT RPUSH ssecast:ingest '{"topic":"demo","data":"from a backend"}'
INFO
}

stop() {
    stop_pid "$RUN/nginx-main.pid"
    for f in "$RUN"/ssecast-*.pid; do [[ -e "$f" ]] && stop_pid "$f"; done
    stop_pid "$RUN/redis.pid"
    log "stopped"
}

status() {
    for f in "$RUN"/*.pid; do
        [[ -e "$f" ]] || continue
        local pid; pid="$(cat "$f")"
        if kill -0 "$pid" 2>/dev/null; then state=running; else state=dead; fi
        printf '%-20s pid %-8s %s\n' "$(basename "$f" .pid)" "$pid" "$state"
    done
}

case "${1:-}" in
    start) start ;;
    stop) stop ;;
    status) status ;;
    *) echo "usage: $0 start|stop|status" >&2; exit 2 ;;
esac
