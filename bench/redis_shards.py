#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
# Redis shards (issue #18, docs/redis.md §Shards), side by side in one run on this machine:
# the same load on 1, 2 and 3 shards (one redis-server each, all on this box): 3 redis-mode
# instances with one event loop each, 30 topics at history.max_events (1,000 each), 20,000
# events of 256 B from 8 (or 64) unpaced keep-alive publishers, 30 subscribers. Reports
# events/s, loss, Redis CPU per event summed over the shards, and the busiest shard's CPU
# per event: one redis-server is one core, so that is the figure whose fall shows the
# capacity a cluster gains; on a 2-core box the events/s cannot grow with the shards.
# Usage: bench/redis_shards.py [--quick] [--pub-conns N] [--bench PATH]
import argparse
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "..", "tests", "integration"))
import requests  # noqa: E402

import redis_scale  # noqa: E402
from conftest import RedisServer, Server, wait_until  # noqa: E402


def instances(redis, n, env):
    out = []
    for i in range(n):
        e = {"SSECAST_REDIS_SHARDS": " ".join(r.url for r in redis),
             "SSECAST_REDIS_INSTANCE_ID": f"b{i}", "SSECAST_HTTP_THREADS": "1",
             "SSECAST_SSE_HEARTBEAT_SECONDS": "15", "SSECAST_LOG_LEVEL": "warn",
             "SSECAST_LIMITS_MAX_CONNECTIONS": "100000", **env}
        out.append(Server(env=e).start())
    for s in out:
        wait_until(lambda: requests.get(s.url + "/readyz", timeout=1).status_code == 200,
                   timeout=20, what="ready")
    return out


def run(bench, shards, conns, quick):
    topics, per_topic, events = 30, 1000, 5000 if quick else 20000
    redis = [RedisServer().start() for _ in range(shards)]
    servers = instances(redis, 3, {"SSECAST_HISTORY_MAX_EVENTS": str(per_topic)})
    try:
        redis_scale.fill_ssecast(servers[0], topics, per_topic)
        cpu0 = [redis_scale.redis_cpu(r) for r in redis]
        r = redis_scale.run_bench(bench, f"shards{shards}/pubs{conns}", [
            "--subs", str(topics), "--topics", str(topics), "--events", str(events),
            "--rate", "0", "--bytes", "256", "--pub-conns", str(conns), "--duration", "120",
            "--drain", "5"] + redis_scale.ssecast_urls(servers) +
            ["--server-pid", ",".join(str(s.proc.pid) for s in servers)])
        used = [redis_scale.redis_cpu(x) - c for x, c in zip(redis, cpu0)]
        published = max(r.get("published", 1), 1)
        r["redis_cpu_us_per_event"] = sum(used) / published * 1e6
        r["busiest_shard_cpu_us_per_event"] = max(used) / published * 1e6
        r["shard_cpu_s"] = [round(u, 3) for u in used]
        return r
    finally:
        for s in servers:
            s.stop()
        for x in redis:
            x.stop()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--pub-conns", type=int, default=8)
    ap.add_argument("--bench", default=os.path.join(HERE, "..", "build", "release", "bench",
                                                    "ssecast-bench"))
    a = ap.parse_args()
    rows = [(k, run(a.bench, k, a.pub_conns, a.quick)) for k in (1, 2, 3)]
    print(f"`bench/redis_shards.py {' '.join(sys.argv[1:])}`".replace(" `", "`"))
    print()
    print("| shards | events/s | lost | publish RTT p50, µs | Redis CPU per event, all shards, µs"
          " | busiest shard's CPU per event, µs | CPU s per shard |")
    print("|---:|---:|---:|---:|---:|---:|---|")
    for k, r in rows:
        eps = r.get("published", 0) / max(r.get("publish_s", 1e-9), 1e-9)
        print(f"| {k} | {eps:,.0f} | {r.get('lost')} | {r.get('publish_rtt_p50_us')} | "
              f"{r['redis_cpu_us_per_event']:.1f} | {r['busiest_shard_cpu_us_per_event']:.1f} | "
              f"{', '.join(str(u) for u in r['shard_cpu_s'])} |")


if __name__ == "__main__":
    main()
