# SPDX-License-Identifier: MIT
# Issue #15 points 4 and 5, SPEC §Redis in production: redis+sentinel:// (the master found
# through real redis-server --sentinel processes, followed on failover) and
# redis.min_replicas (WAIT: a publish is acknowledged only once a replica holds it).
# Everything runs on loopback: a master, replicas and three sentinels started here.
import os
import signal
import subprocess
import tempfile
import time
from pathlib import Path

import pytest
import requests

from conftest import RUN_DIR, RedisServer, Server, free_port, wait_until
from test_chaos import Publisher, Subscriber, id_key
from redis_support import auth

MASTER_NAME = "ssecast-master"
DOWN_AFTER_MS = 1000


class SentinelProcess:
    """One `redis-server <conf> --sentinel` watching MASTER_NAME (quorum 2)."""

    def __init__(self, master_port):
        self.port = free_port()
        self.dir = tempfile.mkdtemp(prefix="sentinel-", dir=RUN_DIR)
        self.conf = Path(self.dir) / "sentinel.conf"  # sentinel rewrites it: must be writable
        self.conf.write_text(
            f"port {self.port}\nbind 127.0.0.1\ndir {self.dir}\n"
            f"sentinel monitor {MASTER_NAME} 127.0.0.1 {master_port} 2\n"
            f"sentinel down-after-milliseconds {MASTER_NAME} {DOWN_AFTER_MS}\n"
            f"sentinel failover-timeout {MASTER_NAME} 5000\n"
            f"sentinel parallel-syncs {MASTER_NAME} 2\n")
        self.proc = subprocess.Popen(["redis-server", str(self.conf), "--sentinel"],
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wait_until(lambda: self.cli("PING") == "PONG", timeout=10, what="sentinel up")

    def cli(self, *args) -> str:
        out = subprocess.run(["redis-cli", "-p", str(self.port), *args], capture_output=True,
                             text=True, timeout=10)
        return out.stdout.strip()

    def master_port(self) -> int:
        out = self.cli("SENTINEL", "get-master-addr-by-name", MASTER_NAME).split()
        return int(out[1]) if len(out) == 2 else 0

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(timeout=10)


def replica_of(master: RedisServer) -> RedisServer:
    return RedisServer(args=("--replicaof", "127.0.0.1", str(master.port))).start()


def online_replicas(r: RedisServer) -> int:
    info = r.cli("INFO", "replication")
    return sum(1 for line in info.splitlines()
               if line.startswith("slave") and "state=online" in line)


class SentinelGroup:
    """A master, `replicas` replicas and three sentinels that know all of them."""

    def __init__(self, replicas=2):
        self.nodes = []
        self.sentinels = []
        try:
            self.nodes.append(RedisServer().start())
            self.nodes += [replica_of(self.nodes[0]) for _ in range(replicas)]
            wait_until(lambda: online_replicas(self.nodes[0]) == replicas, timeout=15,
                       what="replicas in sync")
            self.sentinels = [SentinelProcess(self.nodes[0].port) for _ in range(3)]

            def discovered():
                return all(
                    len(s.cli("SENTINEL", "replicas", MASTER_NAME).split("name")) - 1 ==
                    replicas and
                    len(s.cli("SENTINEL", "sentinels", MASTER_NAME).split("name")) - 1 == 2
                    for s in self.sentinels)
            # Sentinels find replicas through INFO and each other through hello messages
            # (every 2 s); a failover before that would not reach a quorum.
            wait_until(discovered, timeout=30, interval=0.2, what="sentinels discovered all")
        except BaseException:
            self.stop()
            raise

    def url(self, extra_sentinels=()):
        hosts = [f"127.0.0.1:{p}" for p in extra_sentinels]
        hosts += [f"127.0.0.1:{s.port}" for s in self.sentinels]
        return f"redis+sentinel://{','.join(hosts)}/{MASTER_NAME}"

    def master(self) -> RedisServer:
        port = self.sentinels[0].master_port()
        return next(n for n in self.nodes if n.port == port)

    def stop(self):
        for s in self.sentinels:
            s.stop()
        for n in self.nodes:
            n.stop()


def instance_env(url, i, **extra):
    env = {"SSECAST_REDIS_URL": url, "SSECAST_REDIS_INSTANCE_ID": f"i{i}",
           "SSECAST_SSE_HEARTBEAT_SECONDS": "1", "SSECAST_HTTP_THREADS": "2"}
    env.update(extra)
    return env


def ready(s) -> bool:
    try:
        return requests.get(s.url + "/readyz", timeout=1).status_code == 200
    except requests.RequestException:
        return False


def stop_servers(servers):
    failures = []
    for s in servers:
        try:
            s.stop_clean()
        except AssertionError as e:
            failures.append(str(e))
    assert not failures, "\n".join(failures)


@pytest.fixture
def group():
    g = SentinelGroup(replicas=1)
    yield g
    g.stop()


def test_sentinel_finds_the_master_and_follows_a_failover(group):
    """A dead first sentinel is skipped; publish and subscribe work through the master the
    sentinels name; after `SENTINEL FAILOVER` (the old master becomes a replica, which
    answers writes with READONLY) the instance moves to the new master by itself, and a
    subscriber that stayed connected gets every event from both sides of the switch."""
    dead_sentinel = free_port()
    srv = Server(env=instance_env(group.url([dead_sentinel]), 0)).start()
    try:
        wait_until(lambda: ready(srv), timeout=15, what="ready through sentinel")
        old = group.master()
        stream = srv.subscribe("orders", headers=auth("u1"))
        try:
            r = srv.publish({"topic": "orders", "data": {"n": 1}})
            assert r.status_code == 200, r.text
            first = r.json()["id"]
            assert stream.next_event()["id"] == first
            assert old.cli("XLEN", "ssecast:topic:orders") == "1"  # it wrote to the master

            assert group.sentinels[1].cli("SENTINEL", "FAILOVER", MASTER_NAME) == "OK"
            wait_until(lambda: group.master().port != old.port, timeout=20, interval=0.1,
                       what="sentinels switched the master")
            new = group.master()
            wait_until(lambda: "role:master" in new.cli("INFO", "replication") and
                       "role:slave" in old.cli("INFO", "replication"),
                       timeout=20, interval=0.1, what="roles swapped")

            def published():
                r = srv.publish({"topic": "orders", "data": {"n": 2}})
                return r.json()["id"] if r.status_code == 200 else None
            second = wait_until(published, timeout=20, interval=0.1,
                                what="a publish acknowledged by the new master")
            assert new.cli("XLEN", "ssecast:topic:orders") == "2"
            ev = stream.next_event(timeout=15)
            assert (ev["id"], ev["data"]) == (second, '{"n":2}')
            assert id_key(second) > id_key(first)
        finally:
            stream.close()
        wait_until(lambda: ready(srv), timeout=15, what="ready on the new master")
        assert srv.admin().json()["redis"]["status"] == "connected"
        logs = srv.logs()
        assert "switch" in logs or "READONLY" in logs or "not the master" in logs, logs[-3000:]
    finally:
        stop_servers([srv])


def test_min_replicas_answers_503_until_a_replica_acknowledges():
    """redis.min_replicas = 1 on a plain master + replica: 200 while the replica keeps up;
    with the replica stopped (SIGSTOP: connected but silent) a publish is answered 503
    within the WAIT timeout and counted; once it resumes, 200 again."""
    master = RedisServer().start()
    replica = replica_of(master)
    srv = None
    try:
        wait_until(lambda: online_replicas(master) == 1, timeout=15, what="replica in sync")
        srv = Server(env=instance_env(master.url, 0, SSECAST_REDIS_MIN_REPLICAS="1",
                                      SSECAST_REDIS_MIN_REPLICAS_TIMEOUT_MS="300")).start()
        wait_until(lambda: ready(srv), timeout=15, what="ready")
        r = srv.publish({"topic": "t", "data": 1})
        assert r.status_code == 200, r.text
        wait_until(lambda: replica.cli("XLEN", "ssecast:topic:t") == "1", timeout=5,
                   what="the event on the replica")

        os.kill(replica.proc.pid, signal.SIGSTOP)
        try:
            t0 = time.monotonic()
            r = srv.publish({"topic": "t", "data": 2})
            took = time.monotonic() - t0
            assert r.status_code == 503, r.text
            assert r.json()["error"] == "backend_unavailable"
            assert took < 3, f"the WAIT timeout is 300 ms, the answer took {took:.2f} s"
            assert srv.metric("ssecast_redis_unreplicated_publishes_total") == 1
            assert ready(srv), "too few replicas is not a reason to drain this instance"
        finally:
            os.kill(replica.proc.pid, signal.SIGCONT)
        r = srv.publish({"topic": "t", "data": 3})
        assert r.status_code == 200, r.text
        assert "1 replica" in srv.logs() or "of 1 replica" in srv.logs()
    finally:
        if srv:
            stop_servers([srv])
        replica.stop()
        master.stop()


def test_sentinel_chaos_kill_the_master_loses_no_acknowledged_event():
    """Master + 2 replicas + 3 sentinels, 3 instances with min_replicas = 1, a publisher and
    6 resuming subscribers. kill -9 of the master: every event acknowledged with a 200
    reaches every subscriber exactly once, in id order; /readyz recovers everywhere. The
    time from the kill to the first acknowledged publish is printed (docs/reliability.md)."""
    group = SentinelGroup(replicas=2)
    servers = []
    pub = None
    subs = []
    try:
        servers = [Server(env=instance_env(group.url(), i, SSECAST_REDIS_MIN_REPLICAS="1"))
                   .start() for i in range(3)]
        wait_until(lambda: all(ready(s) for s in servers), timeout=20, what="all ready")
        subs = [Subscriber(n, servers) for n in range(6)]
        for s in subs:
            s.start()
        wait_until(lambda: all(s.live.is_set() for s in subs), timeout=10, what="subscribers")
        pub = Publisher(servers)
        pub.start()
        wait_until(lambda: len(pub.acked) >= 100, timeout=20, interval=0.05,
                   what="100 acknowledged")

        old = group.master()
        acked_before = len(pub.acked)
        killed_at = time.monotonic()
        old.proc.kill()
        old.proc.wait(timeout=5)
        wait_until(lambda: len(pub.acked) > acked_before and pub.acked[-1][2] > killed_at + 0.01
                   and any(n is not old and n.port == group.master().port for n in group.nodes),
                   timeout=30, interval=0.02, what="a publish acknowledged after the failover")
        # The first acknowledgement after the outage: the end of the longest pause between
        # two acknowledgements after the kill (one in flight at the kill may land just after).
        times = [killed_at] + [at for _, _, at in pub.acked if at > killed_at]
        first_ack_after = max(zip(times, times[1:]), key=lambda p: p[1] - p[0])[1] - killed_at
        new = group.master()
        assert new is not old
        wait_until(lambda: all(ready(s) for s in servers), timeout=20,
                   interval=0.1, what="/readyz 200 again on every instance")
        ready_after = time.monotonic() - killed_at
        base = len(pub.acked)
        wait_until(lambda: len(pub.acked) >= base + 100, timeout=20, interval=0.05,
                   what="100 more acknowledged on the new master")
        pub.stop_flag.set()
        pub.join(timeout=10)
        target = id_key(pub.acked[-1][1])
        wait_until(lambda: all(s.last_id and id_key(s.last_id) >= target for s in subs),
                   timeout=20, interval=0.05, what="subscribers caught up")
        for s in subs:
            s.stop_flag.set()
        for s in subs:
            s.join(timeout=5)

        acked = {eid: seq for seq, eid, _ in pub.acked}
        acked_ids = sorted(acked, key=id_key)
        assert len(acked) == len(pub.acked), "two acknowledged events share an id"
        problems = []
        for s in subs:
            ids = [e for e, _ in s.events]
            keys = [id_key(e) for e in ids]
            missing = [e for e in acked_ids if e not in set(ids)]
            dup = len(ids) - len(set(ids))
            in_order = all(a < b for a, b in zip(keys, keys[1:]))
            wrong = [e for e, seq in s.events if e in acked and acked[e] != seq]
            if missing or dup or not in_order or wrong or s.history_lost:
                problems.append(f"c{s.n}: missing {len(missing)} (first {missing[:3]}), dup "
                                f"{dup}, in order {in_order}, wrong payload {wrong[:3]}, "
                                f"history-lost {s.history_lost[:2]}")
        print(f"\nsentinel chaos: kill -9 of the master -> first acknowledged publish after "
              f"{first_ack_after:.2f} s, every instance ready after {ready_after:.2f} s "
              f"(down-after-milliseconds {DOWN_AFTER_MS}); acknowledged {len(acked)}, "
              f"refused {dict(sorted(pub.refused.items(), key=str))}")
        assert not problems, "\n".join(problems)
    finally:
        if pub:
            pub.stop_flag.set()
        for s in subs:
            s.stop_flag.set()
        try:
            stop_servers(servers)
        finally:
            group.stop()
