# SPDX-License-Identifier: MIT
# Redis mode, SPEC §sse-monitor and issue #3 §Registry: global stats summed over instances,
# per-connection records, cleanup after kill -9 within two TTLs, convergence after a
# reconnect storm.
import json
import socket
import threading
import time

import pytest
import requests

from conftest import wait_until
from redis_support import PREFIX, auth, token


def counts(doc):
    return {u["userId"]: u["connections"] for u in doc["perUser"]}


def records(redis, i):
    """Instance i's connection records: {"i<i>:<id>": {"user", "topics", "since"}}."""
    out = redis.cli("HGETALL", f"{PREFIX}instance:i{i}:conns").splitlines()
    return {k: json.loads(v) for k, v in zip(out[::2], out[1::2])}


def hlen(redis, i):
    return int(redis.cli("HLEN", f"{PREFIX}instance:i{i}:conns"))


def test_connection_records_per_instance(cluster):
    opened = [(0, "alice", ["x"]), (0, "bob", ["x", "orders/*"]), (1, "alice", ["y"]),
              (2, "carol", ["x"]), (2, "carol", ["z"]), (2, "dave", ["news/*", "x"])]
    before = int(time.time() * 1000)
    streams = [cluster.servers[i].subscribe(*topics, headers=auth(user))
               for i, user, topics in opened]
    after = int(time.time() * 1000)
    assert all(s.status == 200 for s in streams)
    wait_until(lambda: [hlen(cluster.redis, i) for i in range(3)] == [2, 1, 3], timeout=2,
               what="one record per open stream")
    seen = set()
    for i in range(3):
        recs = records(cluster.redis, i)
        assert all(k.startswith(f"i{i}:") for k in recs)
        seen |= set(recs)
        assert all(set(r) == {"user", "topics", "since"} for r in recs.values())
        assert all(before - 1000 <= r["since"] <= after + 1000 for r in recs.values())
        assert sorted((r["user"], r["topics"]) for r in recs.values()) == sorted(
            (user, topics) for j, user, topics in opened if j == i)
        assert int(cluster.redis.cli("PTTL", f"{PREFIX}instance:i{i}:conns")) > 0
    assert len(seen) == len(opened)
    # Closing streams removes their records (flushed every 100 ms).
    streams[3].close()
    streams[0].close()
    wait_until(lambda: [hlen(cluster.redis, i) for i in range(3)] == [1, 1, 2], timeout=1.5,
               what="closed streams' records removed")
    assert [r["user"] for r in records(cluster.redis, 0).values()] == ["bob"]
    assert sorted(r["topics"] for r in records(cluster.redis, 2).values()) == [
        ["news/*", "x"], ["z"]]
    # A draining instance deletes its own records.
    cluster.servers[2].stop()
    assert cluster.redis.cli("EXISTS", f"{PREFIX}instance:i2:conns") == "0"
    for s in streams:
        s.close()
    wait_until(lambda: [hlen(cluster.redis, i) for i in range(2)] == [0, 0], timeout=1.5,
               what="all records removed")
    assert cluster.redis.cli("EXISTS", f"{PREFIX}instance:i0:conns") == "0"


def test_global_stats_are_summed_over_instances(cluster):
    a, b, c = cluster.servers
    streams = [a.subscribe("x", headers=auth("alice")), a.subscribe("x", headers=auth("bob")),
               b.subscribe("x", headers=auth("alice"))]
    streams += [c.subscribe("x", headers=auth("carol")) for _ in range(3)]
    assert all(s.status == 200 for s in streams)

    def settled():
        doc = cluster.monitor(0)
        return doc if doc["global"]["connections"] == 6 else None

    doc = wait_until(settled, timeout=5, what="global connections = 6")
    assert doc["handler"] == "redis"
    assert doc["instanceId"] == "i0"
    assert doc["redis"]["status"] == "connected"
    assert doc["local"]["connections"] == 2
    assert doc["global"] == {"connections": 6, "uniqueUsers": 3, "instances": 3}
    assert doc["perUser"][0] == {"userId": "carol", "connections": 3}
    assert counts(doc) == {"carol": 3, "alice": 2, "bob": 1}
    per_instance = {i["instanceId"]: i["connections"] for i in doc["instances"]}
    assert per_instance == {"i0": 2, "i1": 1, "i2": 3}
    assert all(0 <= i["lastSeenSeconds"] <= 3 for i in doc["instances"])
    # Every instance answers the same global view.
    wait_until(lambda: cluster.monitor(2)["global"]["connections"] == 6, timeout=3)
    assert cluster.servers[2].admin("/api/admin/sse-monitor?limit=1").json()["perUser"] == [
        {"userId": "carol", "connections": 3}]
    for s in streams:
        s.close()
    wait_until(lambda: cluster.monitor(1)["global"]["connections"] == 0, timeout=5,
               what="counts back to zero")


def test_kill_9_instance_is_cleaned_up_within_two_ttls(make_cluster):
    ttl = 3
    c = make_cluster(env={"SSECAST_REDIS_HEARTBEAT_SECONDS": "1",
                          "SSECAST_REDIS_INSTANCE_TTL_SECONDS": str(ttl)})
    a, b, victim = c.servers
    keep = [a.subscribe("k", headers=auth("alice"))]
    doomed = [victim.subscribe("k", headers=auth("dave")) for _ in range(4)]
    wait_until(lambda: c.monitor(0)["global"]["connections"] == 5, timeout=5)
    assert c.redis.cli("HGET", PREFIX + "instance:i2:users", "dave") == "4"
    wait_until(lambda: hlen(c.redis, 2) == 4, timeout=2)
    assert {r["user"] for r in records(c.redis, 2).values()} == {"dave"}
    victim.kill()  # SIGKILL: no deregistration
    killed_at = time.monotonic()

    def gone():
        doc = c.monitor(0)
        ids = {i["instanceId"] for i in doc["instances"]}
        return (doc["global"]["connections"] == 1 and ids == {"i0", "i1"}
                and c.redis.cli("EXISTS", PREFIX + "instance:i2:users") == "0"
                and c.redis.cli("EXISTS", PREFIX + "instance:i2:conns") == "0"
                and c.redis.cli("ZSCORE", PREFIX + "instances", "i2") == "")

    wait_until(gone, timeout=2 * ttl + 2, interval=0.1, what="dead instance cleaned")
    assert time.monotonic() - killed_at <= 2 * ttl
    logs = a.logs() + b.logs()
    assert logs.count("instance i2 stopped heartbeating") == 1  # one survivor did it
    # The other survivor's cached view (≤ 1 s old) catches up too.
    wait_until(lambda: counts(c.monitor(1)) == {"alice": 1}, timeout=2.5)
    for s in keep + doomed:
        s.close()


def _storm(server, users, cycles, errors):
    tokens = {u: token(u) for u in users}
    try:
        for i in range(cycles):
            user = users[i % len(users)]
            with socket.create_connection((server.host, server.port), timeout=10) as sock:
                sock.sendall((f"GET /events?topic=storm HTTP/1.1\r\nHost: x\r\n"
                              f"Authorization: Bearer {tokens[user]}\r\n\r\n").encode())
                head = b""
                while b"\r\n\r\n" not in head:
                    chunk = sock.recv(4096)
                    if not chunk:
                        break
                    head += chunk
                if not head.startswith(b"HTTP/1.1 200"):
                    errors.append(head[:80])
    except Exception as e:  # noqa: BLE001 - reported by the test
        errors.append(repr(e))


def test_reconnect_storm_converges_to_true_counts(cluster):
    users = [f"s{i}" for i in range(10)]
    # Long-lived streams that must survive the storm: 2 per user on instance 0, 1 on 1.
    steady = [cluster.servers[0].subscribe("storm", headers=auth(u)) for u in users for _ in (0, 1)]
    steady += [cluster.servers[1].subscribe("storm", headers=auth(u)) for u in users]
    errors = []
    threads = [threading.Thread(target=_storm, args=(s, users, 350, errors))
               for s in cluster.servers for _ in range(2)]  # 6 × 350 = 2,100 connect/close
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []

    def stored_users(i):
        stored = cluster.redis.cli("HGETALL", f"{PREFIX}instance:i{i}:users").split()
        return dict(zip(stored[::2], map(int, stored[1::2])))

    expected_stored = [{u: 2 for u in users}, {u: 1 for u in users}, {}]

    def converged():
        # The storm's clients have closed, but a server may still be ending the last streams
        # (it sees the EOF, then flushes within 100 ms), and the monitor is cached for up to
        # a second: wait until both Redis and the monitor agree on the true counts.
        if [stored_users(i) for i in range(3)] != expected_stored:
            return None
        doc = cluster.monitor(2)
        return doc if (doc["global"]["connections"] == 30
                       and counts(doc) == {u: 3 for u in users}) else None

    doc = wait_until(converged, timeout=10, interval=0.2, what="registry converged")
    assert {i["instanceId"]: i["connections"] for i in doc["instances"]} == {
        "i0": 20, "i1": 10, "i2": 0}
    assert [stored_users(i) for i in range(3)] == expected_stored
    # One record per open stream, none left over from the storm.
    wait_until(lambda: [hlen(cluster.redis, i) for i in range(3)] == [20, 10, 0], timeout=2,
               what="one record per open stream")
    for i, per_user in ((0, 2), (1, 1)):
        recs = records(cluster.redis, i).values()
        assert {u: sum(r["user"] == u for r in recs) for u in users} == {u: per_user for u in users}
        assert all(r["topics"] == ["storm"] for r in recs)
    for s in steady:
        s.close()
