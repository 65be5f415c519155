#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
# Redis CPU per published event at a full history (issue #13): starts a redis-server and one
# redis-mode ssecast per binary given, fills the stream to history.max_events, then publishes
# N more on keep-alive HTTP and reads Redis's own accounting (INFO commandstats: the publish
# script's usec_per_call, and every command it ran). Binaries are measured one after another
# on fresh Redis servers, in the same run.
# --max-events sets history.max_events (default: the fill, so no topic is full; fill/topics
# makes every topic full, the steady state where each publish trims one entry).
# Usage: bench/redis_publish_cost.py [--events N] [--fill N] [--topics T] [--max-events M]
#        BIN [BIN...]
import argparse
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "tests", "integration"))
import requests  # noqa: E402

from conftest import PUBLISH_KEY, RedisServer, Server, wait_until  # noqa: E402


def measure(binary, fill, events, topics, max_events):
    os.environ["SSECAST_BIN"] = binary
    redis = RedisServer().start()
    srv = Server(env={"SSECAST_REDIS_URL": redis.url, "SSECAST_HISTORY_MAX_EVENTS": str(max_events or fill),
                      "SSECAST_HTTP_THREADS": "1"}).start()
    try:
        wait_until(lambda: requests.get(srv.url + "/readyz", timeout=1).status_code == 200,
                   timeout=20, what="ready")
        http = requests.Session()
        headers = {"Authorization": f"Bearer {PUBLISH_KEY}"}
        for start in range(0, fill, 100):  # round-robin over every topic
            batch = [{"topic": f"t{i % topics}", "data": {"n": i}}
                     for i in range(start, min(start + 100, fill))]
            assert http.post(srv.url + "/publish", json=batch, headers=headers).ok
        redis.cli("CONFIG", "RESETSTAT")
        for i in range(events):
            assert http.post(srv.url + "/publish", headers=headers,
                             json={"topic": f"t{i % topics}", "data": {"n": i}}).ok
        stats = {}
        for line in redis.cli("INFO", "commandstats").splitlines():
            if line.startswith("cmdstat_"):
                name, _, rest = line.partition(":")
                fields = dict(kv.split("=") for kv in rest.split(","))
                stats[name[8:]] = (int(fields["calls"]), float(fields["usec_per_call"]))
        return stats
    finally:
        srv.stop()
        redis.stop()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--events", type=int, default=1000)
    ap.add_argument("--fill", type=int, default=10000)
    ap.add_argument("--topics", type=int, default=2000)
    ap.add_argument("--max-events", type=int, default=0)
    ap.add_argument("bins", nargs="+")
    a = ap.parse_args()
    for b in a.bins:
        stats = measure(b, a.fill, a.events, a.topics, a.max_events)
        script = stats.get("evalsha", (0, 0.0))
        print(f"{b}: publish script {script[1]:.1f} us/call over {script[0]} calls "
              f"(history {a.fill}, {a.topics} topics, max_events {a.max_events or a.fill})")
        for name, (calls, per) in sorted(stats.items()):
            print(f"    {name:12} calls={calls:6}  usec_per_call={per:.2f}")


if __name__ == "__main__":
    main()
