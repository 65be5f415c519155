#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
# Resume cost over Redis shards (issue #18, docs/redis.md §Shards), side by side in one run:
# one client on 20 topics reads them on instance A, goes away for AWAY seconds while a
# publisher sends 500 events/s over those topics (and as many again on topics it does not
# read), then resumes on instance B with its last id. The same run on 1 shard (plain ids)
# and on 3 shards (composite ids, 20 topics spread 7/7/6). Reports the replay time (from
# the request until the last missed event is read), events replayed, lost or duplicated
# (must be 0), replay script calls and Redis CPU spent during the replay, summed over the
# shards.
# Usage: bench/redis_shard_resume.py [--away SECONDS] [--rate EVENTS_PER_S]
import argparse
import json
import os
import re
import socket
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "..", "tests", "integration"))
import requests  # noqa: E402

import redis_scale  # noqa: E402
from conftest import PUBLISH_KEY, RedisServer  # noqa: E402
from redis_shards import instances  # noqa: E402
from redis_support import shard_of, token  # noqa: E402

DATA = re.compile(rb"\ndata: (\{[^\n]*\})")


def spread(k, n, base):
    """n topic names that split as evenly as they can over k shards, interleaved."""
    by_shard = [[] for _ in range(k)]
    i = 0
    while sum(len(g) for g in by_shard) < n:
        name = f"{base}{i}"
        group = by_shard[shard_of(name, k)]
        if len(group) < -(-n // k):
            group.append(name)
        i += 1
    return [t for g in by_shard for t in g]


def open_stream(server, topics, last_id=None):
    sock = socket.create_connection((server.host, server.port), timeout=30)
    query = "&".join(f"topic={t}" for t in topics)
    head = [f"GET /events?{query} HTTP/1.1", f"Host: {server.host}",
            f"Authorization: Bearer {token('bench')}"]
    if last_id:
        head.append(f"Last-Event-ID: {last_id}")
    sock.sendall(("\r\n".join(head) + "\r\n\r\n").encode())
    return sock


def read_events(sock, want):
    """Reads until `want` events; returns ([(id, seq)], time the last one was read)."""
    buf = b""
    out = []
    while len(out) < want:
        chunk = sock.recv(1 << 20)
        if not chunk:
            raise EOFError(f"stream closed after {len(out)} of {want}")
        buf += chunk
        end = buf.rfind(b"\n\n")
        if end < 0:
            continue
        frames, buf = buf[:end], buf[end + 2:]
        for frame in frames.split(b"\n\n"):
            m = DATA.search(b"\n" + frame)
            if not m:
                continue
            ident = None
            for line in frame.split(b"\n"):
                if line.startswith(b"id: "):
                    ident = line[4:].decode()
            body = json.loads(m.group(1))
            if "seq" not in body:
                raise RuntimeError(f"not an event of the bench: {frame[:300]!r}")
            out.append((ident, body["seq"]))
    return out, time.monotonic()


def publish(server, topics, other, rate, seconds, seq=0):
    """`rate` events/s on `topics` (and as many on `other`), batches of 10 per request,
    numbered from seq + 1; returns the numbers acknowledged."""
    s = requests.Session()
    h = {"Authorization": f"Bearer {PUBLISH_KEY}", "Content-Type": "application/json"}
    sent, start, first = [], time.monotonic(), seq
    while time.monotonic() - start < seconds:
        batch = []
        for _ in range(10):
            seq += 1
            batch.append({"topic": topics[seq % len(topics)], "data": {"seq": seq}})
            batch.append({"topic": other[seq % len(other)], "data": {"seq": -seq}})
        r = s.post(server.url + "/publish", data=json.dumps(batch), headers=h, timeout=10)
        if r.status_code == 200:
            sent.extend(range(seq - 9, seq + 1))
        lag = start + (seq - first) / rate - time.monotonic()
        if lag > 0:
            time.sleep(lag)
    return sent


def replay_calls(redis):
    text = redis.cli("INFO", "commandstats")
    m = re.search(r"cmdstat_evalsha:calls=(\d+)", text)
    return int(m.group(1)) if m else 0


def run(shards, away, rate):
    redis = [RedisServer().start() for _ in range(shards)]
    servers = instances(redis, 2, {"SSECAST_HISTORY_MAX_EVENTS": "100000",
                                   "SSECAST_LIMITS_MAX_QUEUE_BYTES": str(1 << 20)})
    try:
        a, b = servers
        topics = spread(shards, 20, "r")
        other = spread(shards, 20, "o")
        sock = open_stream(a, topics)
        time.sleep(0.5)  # subscribed
        first = publish(a, topics, other, 100, 0.05)
        seen, _ = read_events(sock, len(first))
        last_id = seen[-1][0]
        sock.close()
        sent = publish(a, topics, other, rate, away, seq=max(first))
        cpu0 = [redis_scale.redis_cpu(r) for r in redis]
        calls0 = [replay_calls(r) for r in redis]
        t0 = time.monotonic()
        sock = open_stream(b, topics, last_id)
        got, t1 = read_events(sock, len(sent))
        sock.close()
        cpu = sum(redis_scale.redis_cpu(r) - c for r, c in zip(redis, cpu0))
        calls = sum(replay_calls(r) - c for r, c in zip(redis, calls0))
        seqs = [s for _, s in got]
        return {"shards": shards, "missed": len(sent), "replayed": len(got),
                "lost": len(set(sent) - set(seqs)), "duplicated": len(seqs) - len(set(seqs)),
                "replay_s": t1 - t0, "calls": calls, "redis_cpu_s": cpu,
                "id_example": got[-1][0]}
    finally:
        for s in servers:
            s.stop()
        for r in redis:
            r.stop()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--away", type=float, default=60)
    ap.add_argument("--rate", type=float, default=500)
    a = ap.parse_args()
    rows = [run(k, a.away, a.rate) for k in (1, 3)]
    print(f"`bench/redis_shard_resume.py {' '.join(sys.argv[1:])}`".replace(" `", "`"))
    print()
    print("| shards | missed | replayed | lost | duplicated | replay time, s | events/s replayed"
          " | replay script calls | Redis CPU during replay, s | Redis CPU per event, µs |")
    print("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for r in rows:
        print(f"| {r['shards']} | {r['missed']:,} | {r['replayed']:,} | {r['lost']} | "
              f"{r['duplicated']} | {r['replay_s']:.2f} | {r['replayed'] / r['replay_s']:,.0f} | "
              f"{r['calls']} | {r['redis_cpu_s']:.2f} | "
              f"{r['redis_cpu_s'] / max(r['replayed'], 1) * 1e6:.1f} |")
    print()
    print(f"3 shards / 1 shard: replay time {rows[1]['replay_s'] / rows[0]['replay_s']:.2f}x, "
          f"Redis CPU {rows[1]['redis_cpu_s'] / max(rows[0]['redis_cpu_s'], 1e-9):.2f}x; "
          f"a composite id: `{rows[1]['id_example']}`")


if __name__ == "__main__":
    main()
