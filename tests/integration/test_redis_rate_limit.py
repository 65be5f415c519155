# SPDX-License-Identifier: MIT
# SPEC §Rate limiting in redis mode (issue #4): 3 instances + a real redis-server. Limits are
# global (one Lua call per request), exact across instances, with the same headers as memory
# mode; a Redis outage falls back to per-instance limits (never unlimited), visible in the
# monitor, /metrics and the log; limits are global again once Redis is back.
# limits.max_connections_per_user is global too (from the registry), also after kill -9.
import re
import time

import requests

from conftest import RedisServer, wait_until
from redis_support import auth

LIMITS = "publish:user_or_ip:5/60,sse:user_or_ip:3/60"




def mode(cluster, i) -> str:
    return cluster.monitor(i)["rateLimit"]["mode"]


def wait_seen(cluster, i, user, n):
    """Waits (≤ 5 s) until instance i's global registry view, the one its per-user limit
    reads (refreshed every second), counts n streams of `user`."""
    def seen():
        per_user = {u["userId"]: u["connections"] for u in cluster.monitor(i)["perUser"]}
        return per_user.get(user, 0) == n
    wait_until(seen, timeout=5, interval=0.1, what=f"instance {i} sees {n} streams of {user}")


def publish_round_robin(cluster, n, topic="rl"):
    """n publishes with one publish key (one identity), instance i % 3 for request i."""
    return [cluster.servers[i % len(cluster.servers)].publish({"topic": topic, "data": i})
            for i in range(n)]


def test_publish_limit_is_global_across_instances(make_cluster):
    c = make_cluster(env={"SSECAST_RATE_LIMIT": LIMITS})
    assert all(mode(c, i) == "global" for i in range(3))
    before = time.time()
    replies = publish_round_robin(c, 12)
    assert [r.status_code for r in replies] == [200] * 5 + [429] * 7
    ok = [r.headers for r in replies[:5]]
    assert [h["X-RateLimit-Remaining"] for h in ok] == ["4", "3", "2", "1", "0"]
    for h in ok:
        assert h["X-RateLimit-Limit"] == "5"
        assert h["RateLimit-Policy"] == '"publish";q=5;w=60'
        assert "Retry-After" not in h
        assert before + 59 <= int(h["X-RateLimit-Reset"]) <= time.time() + 61
    assert ok[0]["RateLimit"] == '"publish";r=4;t=60'
    for r in replies[5:]:
        assert r.json()["error"] == "rate_limited"
        assert r.headers["X-RateLimit-Remaining"] == "0"
        assert r.headers["RateLimit-Policy"] == '"publish";q=5;w=60'
        assert re.fullmatch(r'"publish";r=0;t=\d+', r.headers["RateLimit"])
        assert 1 <= int(r.headers["Retry-After"]) <= 60
    # One ZSET per rule and identity, holding the accepted requests only.
    keys = c.redis.cli("KEYS", "ssecast:rl:*").split()
    assert len(keys) == 1 and keys[0].startswith("ssecast:rl:0:")
    assert c.redis.cli("ZCARD", keys[0]) == "5"
    # Every instance counted its own decisions; together they are exact.
    allowed = limited = 0
    for s in c.servers:
        text = requests.get(s.url + "/metrics", timeout=5).text
        allowed += int(re.search(r'endpoint="publish",outcome="allowed"\} (\d+)', text)[1])
        limited += int(re.search(r'endpoint="publish",outcome="limited"\} (\d+)', text)[1])
    assert (allowed, limited) == (5, 7)
    assert all(s.metric("ssecast_rate_limit_fallback") == 0 for s in c.servers)


def test_sse_limit_is_global_and_per_user(make_cluster):
    c = make_cluster(env={"SSECAST_RATE_LIMIT": LIMITS})
    streams = []
    try:
        for i in range(5):
            streams.append(c.servers[i % 3].subscribe("rl", headers=auth("alice")))
        assert [s.status for s in streams] == [200, 200, 200, 429, 429]
        assert [s.headers["x-ratelimit-remaining"] for s in streams] == ["2", "1", "0", "0", "0"]
        refused = streams[3]
        assert refused.body()["error"] == "rate_limited"
        assert refused.headers["ratelimit-policy"] == '"sse";q=3;w=60'
        assert 1 <= int(refused.headers["retry-after"]) <= 60
        # Another user has a budget of their own, on every instance.
        bob = [c.servers[i % 3].subscribe("rl", headers=auth("bob")) for i in range(4)]
        streams += bob
        assert [s.status for s in bob] == [200, 200, 200, 429]
    finally:
        for s in streams:
            s.close()


def test_redis_outage_falls_back_to_local_limits_then_global_again(make_cluster):
    c = make_cluster(env={"SSECAST_RATE_LIMIT": LIMITS})
    assert [r.status_code for r in publish_round_robin(c, 6)] == [200] * 5 + [429]

    port = c.redis.port
    c.redis.stop()
    wait_until(lambda: all(mode(c, i) == "local-fallback" for i in range(3)), timeout=5,
               what="monitor rateLimit.mode local-fallback")
    assert all(s.metric("ssecast_rate_limit_fallback") == 1 for s in c.servers)
    # Limits still hold, per instance: 5 pass the limiter on each instance (then publish
    # itself answers 503, Redis being down), the 6th is refused — never unlimited.
    for s in c.servers:
        statuses = [s.publish({"topic": "rl", "data": i}).status_code for i in range(8)]
        assert statuses == [503] * 5 + [429] * 3, statuses
    # The same for streams (they open while Redis is down; the registry is local).
    for s in c.servers:
        opened = [s.subscribe("rl", headers=auth("erin")) for _ in range(4)]
        assert [x.status for x in opened] == [200, 200, 200, 429]
        assert opened[3].headers["x-ratelimit-remaining"] == "0"
        assert int(opened[3].headers["retry-after"]) >= 1
        for x in opened:
            x.close()
    for s in c.servers:
        logs = s.logs()
        assert logs.count("rate limits are per instance (local fallback)") == 1, logs

    c.redis = RedisServer(port=port).start()  # back, empty: budgets start afresh
    wait_until(lambda: all(mode(c, i) == "global" for i in range(3)), timeout=10,
               interval=0.1, what="monitor rateLimit.mode global")
    c.wait_ready()
    assert all(s.metric("ssecast_rate_limit_fallback") == 0 for s in c.servers)
    assert all("rate limits are global again" in s.logs() for s in c.servers)
    replies = publish_round_robin(c, 9)
    assert [r.status_code for r in replies] == [200] * 5 + [429] * 4
    assert [r.headers["X-RateLimit-Remaining"] for r in replies[:5]] == [
        "4", "3", "2", "1", "0"]


def test_max_connections_per_user_is_global(make_cluster):
    ttl = 3
    c = make_cluster(env={"SSECAST_LIMITS_MAX_CONNECTIONS_PER_USER": "2",
                          "SSECAST_REDIS_HEARTBEAT_SECONDS": "1",
                          "SSECAST_REDIS_INSTANCE_TTL_SECONDS": str(ttl)})
    streams = []
    try:
        a, b, victim = c.servers
        streams += [a.subscribe("m", headers=auth("max")), b.subscribe("m", headers=auth("max"))]
        assert [s.status for s in streams] == [200, 200]
        wait_seen(c, 2, "max", 2)  # the registry flushed and the victim refreshed its view
        third = victim.subscribe("m", headers=auth("max"))
        assert third.status == 429
        assert third.body()["error"] == "too_many_connections"
        assert int(third.headers["retry-after"]) >= 1
        third.close()
        other = victim.subscribe("m", headers=auth("someone-else"))
        assert other.status == 200
        streams.append(other)

        streams.pop(0).close()  # the stream on `a`

        def reopen(server):
            def attempt():
                x = server.subscribe("m", headers=auth("max"))
                if x.status == 200:
                    return x
                x.close()
                return None
            return attempt

        # The freed slot is seen by the other instances once the registry synced.
        streams.append(wait_until(reopen(victim), timeout=5, interval=0.2, what="free slot"))
        wait_seen(c, 0, "max", 2)  # b's and the victim's
        extra = a.subscribe("m", headers=auth("max"))
        assert extra.status == 429
        extra.close()

        # kill -9 of an instance holding one of max's streams: within 2 TTLs the slot is free.
        victim.kill()
        killed_at = time.monotonic()
        streams.append(wait_until(reopen(a), timeout=2 * ttl + 2, interval=0.2,
                                  what="slot freed by cleanup of the dead instance"))
        assert time.monotonic() - killed_at <= 2 * ttl
        # And the limit holds again: max has 2 (one on a, one on b).
        wait_seen(c, 1, "max", 2)
        again = b.subscribe("m", headers=auth("max"))
        assert again.status == 429
        again.close()
    finally:
        for s in streams:
            s.close()
