# SPDX-License-Identifier: MIT
# Redis mode, issue #3 §Redis outages: stop redis-server, keep local streams alive, answer
# 503 to publish and /readyz, then recover by itself within 10 s once Redis is back.
import socket
import time

import requests

from conftest import RedisServer, wait_until
from redis_support import assert_no_more_events, auth


def test_redis_outage_and_recovery(cluster):
    a, b, c = cluster.servers
    streams = [s.subscribe("o", headers=auth(f"o{i}")) for i, s in enumerate((a, b, c))]
    first = a.publish({"topic": "o", "data": "before"}).json()["id"]
    for s in streams:
        assert s.next_event()["id"] == first

    port = cluster.redis.port
    cluster.redis.stop()
    wait_until(lambda: all(requests.get(s.url + "/readyz", timeout=1).status_code == 503
                           for s in cluster.servers), timeout=5, what="/readyz 503")
    r = b.publish({"topic": "o", "data": "lost?"})
    assert r.status_code == 503, r.text
    assert r.json()["error"] == "backend_unavailable"
    assert a.admin().json()["redis"]["status"] == "disconnected"
    metrics = requests.get(a.url + "/metrics", timeout=5).text
    assert any(line.startswith("ssecast_redis_up") and line.rstrip().endswith(" 0")
               for line in metrics.splitlines())
    # Local subscribers stay connected and keep getting heartbeats (heartbeat = 1 s).
    before = [s.comments for s in streams]
    for s in streams:
        assert_no_more_events(s, wait=2.2)
    assert all(s.comments > n for s, n in zip(streams, before))
    assert not any(s.closed for s in streams)

    redis = RedisServer(port=port).start()
    cluster.redis = redis
    back = time.monotonic()

    def recovered():
        return all(requests.get(s.url + "/readyz", timeout=1).status_code == 200
                   for s in cluster.servers)

    wait_until(recovered, timeout=10, interval=0.1, what="ready again")
    r = wait_until(lambda: (lambda x: x if x.status_code == 200 else None)(
        c.publish({"topic": "o", "data": "after"})), timeout=10, interval=0.2)
    for s in streams:
        e = s.next_event(timeout=5)
        assert e["id"] == r.json()["id"] and e["data"] == "after"
    assert time.monotonic() - back <= 10
    for s in streams:
        assert_no_more_events(s)
        s.close()
    # The registry rewrote its full state into the empty Redis.
    wait_until(lambda: a.admin().json()["global"]["connections"] == 0, timeout=5)
    assert "redis connection lost" in a.logs()
    assert "redis connected" in a.logs()
