# SPDX-License-Identifier: MIT
# Issue #15 points 4 and 5, SPEC §Redis in production: redis+sentinel:// (the master found
# through real redis-server --sentinel processes, followed on failover) and
# redis.min_replicas (WAIT: a publish is acknowledged only once a replica holds it).
# Everything runs on loopback: a master, replicas and three sentinels started here.
import os
import signal
import socket
import subprocess
import tempfile
import threading
import time
from pathlib import Path

import pytest
import requests

from conftest import RUN_DIR, RedisServer, free_port, instance_env, wait_until
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


def ready(s) -> bool:
    try:
        return requests.get(s.url + "/readyz", timeout=1).status_code == 200
    except requests.RequestException:
        return False


@pytest.fixture
def make_group():
    """make_group(replicas): a started SentinelGroup, stopped at teardown."""
    made = []

    def factory(replicas=1):
        made.append(SentinelGroup(replicas=replicas))
        return made[-1]

    yield factory
    for g in made:
        g.stop()


@pytest.fixture
def instances(make_group, make_server):
    """Instances are stopped (cleanly, exit code checked) by make_server's teardown, which
    runs before make_group's: pytest tears fixtures down in reverse order of set-up."""
    def start(url, n, **extra):
        return [make_server(env=instance_env(url, i, **extra)).start() for i in range(n)]
    return start


@pytest.fixture
def master_and_replica():
    master = RedisServer().start()
    replica = None
    try:
        replica = replica_of(master)
        wait_until(lambda: online_replicas(master) == 1, timeout=15, what="replica in sync")
        yield master, replica
    finally:
        if replica:
            replica.stop()
        master.stop()


class FakeSentinel(threading.Thread):
    """A sentinel that answers only what ssecast asks (PING, SENTINEL
    get-master-addr-by-name, SUBSCRIBE) and names whichever port the test sets; it never
    announces +switch-master, so ssecast can only learn of a role change from Redis itself."""

    def __init__(self, master_port):
        super().__init__(daemon=True)
        self.master_port = master_port
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.stopping = False
        self.questions = 0

    def run(self):
        self.listener.settimeout(0.2)
        while not self.stopping:
            try:
                conn, _ = self.listener.accept()
            except OSError:
                continue
            threading.Thread(target=self.serve, args=(conn,), daemon=True).start()

    def serve(self, conn):
        f = conn.makefile("rb")
        try:
            while not self.stopping:
                line = f.readline()
                if not line.startswith(b"*"):
                    return
                args = []
                for _ in range(int(line[1:])):
                    size = int(f.readline()[1:])
                    args.append(f.read(size + 2)[:-2].decode())
                verb = args[0].upper()
                if verb == "PING":
                    conn.sendall(b"+PONG\r\n")
                elif verb == "SENTINEL" and args[1:] == ["get-master-addr-by-name", MASTER_NAME]:
                    self.questions += 1
                    port = str(self.master_port).encode()
                    conn.sendall(b"*2\r\n$9\r\n127.0.0.1\r\n$%d\r\n%s\r\n" % (len(port), port))
                elif verb == "SUBSCRIBE":
                    conn.sendall(b"*3\r\n$9\r\nsubscribe\r\n$14\r\n+switch-master\r\n:1\r\n")
                else:
                    conn.sendall(b"-ERR unknown command\r\n")
        except (OSError, ValueError):
            pass
        finally:
            conn.close()

    def stop(self):
        self.stopping = True
        self.listener.close()
        self.join(timeout=5)


@pytest.fixture
def fake_sentinel(master_and_replica):
    fake = FakeSentinel(master_and_replica[0].port)
    fake.start()
    yield fake
    fake.stop()


def publish_id(srv, body):
    r = srv.publish(body)
    return r.json()["id"] if r.status_code == 200 else None


def test_sentinel_finds_the_master_and_follows_a_failover(make_group, instances):
    """A dead first sentinel is skipped; publish and subscribe work through the master the
    sentinels name; after `SENTINEL FAILOVER` (the old master becomes a replica) the
    instance moves to the new master by itself (+switch-master), and a subscriber that
    stayed connected gets the events from both sides of the switch."""
    group = make_group(replicas=1)
    srv, = instances(group.url([free_port()]), 1)
    wait_until(lambda: ready(srv), timeout=15, what="ready through sentinel")
    old = group.master()
    stream = srv.subscribe("orders", headers=auth("u1"))
    try:
        first = publish_id(srv, {"topic": "orders", "data": {"n": 1}})
        assert first
        assert stream.next_event()["id"] == first
        assert old.cli("XLEN", "ssecast:topic:orders") == "1"  # it wrote to the master

        assert group.sentinels[1].cli("SENTINEL", "FAILOVER", MASTER_NAME) == "OK"
        wait_until(lambda: group.master().port != old.port, timeout=20, interval=0.1,
                   what="sentinels switched the master")
        new = group.master()
        second = wait_until(lambda: publish_id(srv, {"topic": "orders", "data": {"n": 2}}),
                            timeout=20, interval=0.1, what="a publish on the new master")
        assert "role:master" in new.cli("INFO", "replication")
        assert new.cli("XLEN", "ssecast:topic:orders") == "2"
        ev = stream.next_event(timeout=15)
        assert (ev["id"], ev["data"]) == (second, '{"n":2}')
        assert id_key(second) > id_key(first)
    finally:
        stream.close()
    wait_until(lambda: ready(srv), timeout=15, what="ready on the new master")
    assert srv.admin().json()["redis"]["status"] == "connected"
    assert "+switch-master" in srv.logs()


def test_a_demoted_master_is_left_on_readonly_and_role(master_and_replica, fake_sentinel,
                                                       make_server):
    """Behind the sentinel's back the master becomes a replica: the next publish gets
    READONLY and is answered 503 (never 200); reconnecting to the same node is refused by
    the ROLE check; once the sentinel names the new master, publishing works again, with the
    history that was replicated to it."""
    master, replica = master_and_replica
    url = f"redis+sentinel://127.0.0.1:{fake_sentinel.port}/{MASTER_NAME}"
    srv = make_server(env=instance_env(url, 0)).start()
    wait_until(lambda: ready(srv), timeout=15, what="ready through the fake sentinel")
    first = publish_id(srv, {"topic": "t", "data": 1})
    assert first
    wait_until(lambda: replica.cli("XLEN", "ssecast:topic:t") == "1", timeout=5,
               what="the event replicated")

    assert replica.cli("REPLICAOF", "NO", "ONE") == "OK"
    assert master.cli("REPLICAOF", "127.0.0.1", str(replica.port)) == "OK"
    r = srv.publish({"topic": "t", "data": 2})
    assert r.status_code == 503, r.text  # a demoted master never yields a 200
    wait_until(lambda: "not the master" in srv.logs(), timeout=10,
               what="the ROLE check refusing the demoted node")
    assert "answered READONLY" in srv.logs()
    assert not ready(srv)

    fake_sentinel.master_port = replica.port
    second = wait_until(lambda: publish_id(srv, {"topic": "t", "data": 3}), timeout=15,
                        interval=0.1, what="a publish on the new master")
    assert id_key(second) > id_key(first)
    assert replica.cli("XLEN", "ssecast:topic:t") == "2"
    wait_until(lambda: ready(srv), timeout=15, what="ready on the new master")


def test_a_plain_url_never_publishes_into_a_demoted_master(master_and_replica, make_server):
    """redis:// (a managed endpoint, no Sentinel): the node becomes a replica under the
    instance. Every publish is answered 503 (READONLY drops the connection, the new one
    meets a replica again), the log says so at most once a minute, and once the node is a
    master again publishing works without a restart."""
    master, replica = master_and_replica
    srv = make_server(env=instance_env(master.url, 0)).start()
    wait_until(lambda: ready(srv), timeout=15, what="ready")
    assert publish_id(srv, {"topic": "t", "data": 1})
    assert replica.cli("REPLICAOF", "NO", "ONE") == "OK"
    assert master.cli("REPLICAOF", "127.0.0.1", str(replica.port)) == "OK"
    codes = [srv.publish({"topic": "t", "data": n}).status_code for n in range(10)]
    assert codes == [503] * 10, codes
    assert 1 <= srv.logs().count("answered READONLY") <= 4  # one per connection at most

    assert master.cli("REPLICAOF", "NO", "ONE") == "OK"
    assert wait_until(lambda: publish_id(srv, {"topic": "t", "data": 2}), timeout=15,
                      interval=0.1, what="publishing again once it is a master")
    wait_until(lambda: ready(srv), timeout=15, what="ready again")


def test_min_replicas_answers_503_until_a_replica_acknowledges(master_and_replica, make_server):
    """redis.min_replicas = 1 on a plain master + replica: 200 while the replica keeps up;
    with the replica stopped (SIGSTOP: connected but silent) a publish is answered 503
    within the WAIT timeout and counted; once it resumes, 200 again."""
    master, replica = master_and_replica
    srv = make_server(env=instance_env(master.url, 0, SSECAST_REDIS_MIN_REPLICAS="1",
                                       SSECAST_REDIS_MIN_REPLICAS_TIMEOUT_MS="300")).start()
    wait_until(lambda: ready(srv), timeout=15, what="ready")
    assert publish_id(srv, {"topic": "t", "data": 1})
    assert replica.cli("XLEN", "ssecast:topic:t") == "1"  # acknowledged = already there

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
    # The replica first works through what it missed; then a publish is acknowledged again.
    assert wait_until(lambda: publish_id(srv, {"topic": "t", "data": 3}), timeout=10,
                      interval=0.1, what="a publish acknowledged after the replica resumed")
    assert "0 of 1 replica(s) acknowledged within 300 ms" in srv.logs()


def test_sentinel_chaos_kill_the_master_loses_no_acknowledged_event(make_group, instances):
    """Master + 2 replicas + 3 sentinels, 3 instances with min_replicas = 1, a publisher and
    6 resuming subscribers. kill -9 of the master: every event acknowledged with a 200
    reaches every subscriber exactly once, in id order; /readyz recovers everywhere. The
    time from the kill to the first acknowledged publish after the outage is printed
    (docs/reliability.md)."""
    group = make_group(replicas=2)
    servers = instances(group.url(), 3, SSECAST_REDIS_MIN_REPLICAS="1")
    wait_until(lambda: all(ready(s) for s in servers), timeout=20, what="all ready")
    subs = [Subscriber(n, servers) for n in range(6)]
    pub = Publisher(servers)
    try:
        for s in subs:
            s.start()
        wait_until(lambda: all(s.live.is_set() for s in subs), timeout=10, what="subscribers")
        pub.start()
        wait_until(lambda: len(pub.acked) >= 100, timeout=20, interval=0.05,
                   what="100 acknowledged")

        old = group.master()
        killed_at = time.monotonic()
        old.proc.kill()
        old.proc.wait(timeout=5)
        wait_until(lambda: group.master() is not old, timeout=30, interval=0.05,
                   what="the sentinels promoted a replica")
        wait_until(lambda: all(ready(s) for s in servers), timeout=20, interval=0.05,
                   what="/readyz 200 again on every instance")
        ready_after = time.monotonic() - killed_at
        base = len(pub.acked)
        wait_until(lambda: len(pub.acked) >= base + 100, timeout=20, interval=0.05,
                   what="100 more acknowledged on the new master")
    finally:
        pub.stop_flag.set()
        pub.join(timeout=10)
    # The first acknowledgement after the outage: the end of the longest pause between two
    # acknowledgements after the kill (one in flight at the kill may land just after it).
    times = [killed_at] + [at for _, _, at in pub.acked if at > killed_at]
    first_ack_after = max(zip(times, times[1:]), key=lambda p: p[1] - p[0])[1] - killed_at
    target = id_key(pub.acked[-1][1])
    try:
        wait_until(lambda: all(s.last_id and id_key(s.last_id) >= target for s in subs),
                   timeout=20, interval=0.05, what="subscribers caught up")
    finally:
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
            problems.append(f"c{s.n}: missing {len(missing)} (first {missing[:3]}), dup {dup}, "
                            f"in order {in_order}, wrong payload {wrong[:3]}, history-lost "
                            f"{s.history_lost[:2]}")
    print(f"\nsentinel chaos: kill -9 of the master -> first acknowledged publish after "
          f"{first_ack_after:.2f} s, every instance ready after {ready_after:.2f} s "
          f"(down-after-milliseconds {DOWN_AFTER_MS}); acknowledged {len(acked)}, refused "
          f"{dict(sorted(pub.refused.items(), key=str))}")
    assert not problems, "\n".join(problems)
