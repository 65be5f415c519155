# SPDX-License-Identifier: MIT
# Issue #7 §4, fault test with nothing lost: one redis-server + 3 ssecast instances, a
# publisher numbering its events, 6 resuming subscribers. While publishing: kill -9 instance
# A and restart it on the same port, the same for B, then stop redis-server and start an
# empty one (no persistence: the stream history is gone). At the end every subscriber must
# have every event acknowledged with a 200 exactly once and in id order; the only events a
# subscriber may miss are ones acknowledged before the Redis restart while it was not
# connected, announced by `ssecast.history-lost` with an id older than the new stream.
#
# Determinism: every phase waits on a bounded condition (wait_until), never on a sleep that
# has to be "long enough". One subscriber ("parked") is deliberately disconnected across the
# Redis restart so the history-lost path is exercised on every run, not only by chance.
import json
import socket
import threading
import time

import requests

from conftest import PUBLISH_KEY, RedisServer, wait_until
from redis_support import token

TOPIC = "chaos"
CLIENTS = 6
PUBLISH_INTERVAL = 0.02  # about 50 events/s, about 1,500 in a run
PARKED = 5  # the subscriber that is offline across the Redis restart


def id_key(event_id: str):
    ms, _, seq = event_id.partition("-")
    return int(ms), int(seq)


class Publisher(threading.Thread):
    """Publishes {"seq": n} round-robin over the instances; an event is *acknowledged* only
    when the answer is 200 with an id. 503s and connection errors during outages are
    expected and counted, never retried under the same sequence number."""

    def __init__(self, servers, topic=TOPIC):
        super().__init__(daemon=True)
        self.servers = servers
        self.topic = topic
        self.stop_flag = threading.Event()
        self.acked = []  # (seq, id, monotonic time of the 200)
        self.attempts = 0
        self.refused = {}  # status or exception name -> count
        self.sessions = [requests.Session() for _ in servers]

    def run(self):
        seq = 0
        i = 0
        while not self.stop_flag.is_set():
            seq += 1
            i = (i + 1) % len(self.servers)
            s = self.servers[i]
            self.attempts += 1
            try:
                r = self.sessions[i].post(
                    s.url + "/publish",
                    data=json.dumps({"topic": self.topic,
                                     "data": {"seq": seq, "topic": self.topic}}),
                    headers={"Authorization": f"Bearer {PUBLISH_KEY}",
                             "Content-Type": "application/json"}, timeout=3)
                if r.status_code == 200:
                    self.acked.append((seq, r.json()["id"], time.monotonic()))
                else:
                    self.refused[r.status_code] = self.refused.get(r.status_code, 0) + 1
            except requests.RequestException as e:
                name = type(e).__name__
                self.refused[name] = self.refused.get(name, 0) + 1
                self.sessions[i] = requests.Session()
            time.sleep(PUBLISH_INTERVAL)


class Subscriber(threading.Thread):
    """Reads the stream; on EOF, reset, refusal or a non-200 answer it reconnects to the
    next instance with Last-Event-ID = the last event it saw (like EventSource)."""

    def __init__(self, n, servers, topic=TOPIC):
        super().__init__(daemon=True)
        self.n = n
        self.servers = servers
        self.topic = topic
        self.target = n % len(servers)
        self.stop_flag = threading.Event()
        self.parked = threading.Event()  # set: stay disconnected
        self.last_id = None
        self.events = []  # (id, seq or None) in arrival order
        self.keyed = []  # (topic the publisher named, seq): streams over several topics
        self.history_lost = []  # (lastEventId in the event, the id we sent, monotonic time)
        self.connects = 0
        self.failed_connects = 0
        self.log = []  # (monotonic time, what) for the failure report
        self.sock = None
        self.live = threading.Event()  # connected and past the response head

    def _connect(self):
        s = self.servers[self.target]
        sock = socket.create_connection((s.host, s.port), timeout=2)
        headers = [f"GET /events?topic={self.topic} HTTP/1.1", f"Host: {s.host}:{s.port}",
                   "Accept: text/event-stream", f"Authorization: Bearer {token(f'c{self.n}')}"]
        if self.last_id:
            headers.append(f"Last-Event-ID: {self.last_id}")
        sock.sendall(("\r\n".join(headers) + "\r\n\r\n").encode())
        buf = b""
        while b"\r\n\r\n" not in buf:
            chunk = sock.recv(65536)
            if not chunk:
                raise EOFError
            buf += chunk
        head, buf = buf.split(b"\r\n\r\n", 1)
        status = int(head.split(b" ", 2)[1])
        if status != 200:
            sock.close()
            raise ConnectionRefusedError(f"status {status}")
        return sock, buf

    def _frame(self, block: bytes, sent_id):
        fields = {"event": "message", "data": [], "id": None}
        for line in block.decode("utf-8").split("\n"):
            if not line or line.startswith(":"):
                continue
            name, _, value = line.partition(":")
            value = value[1:] if value.startswith(" ") else value
            if name == "data":
                fields["data"].append(value)
            elif name in ("id", "event"):
                fields[name] = value
        if not fields["data"]:
            return
        data = "\n".join(fields["data"])
        if fields["event"] == "ssecast.history-lost":
            self.history_lost.append((json.loads(data)["lastEventId"], sent_id,
                                      time.monotonic()))
        else:
            body = json.loads(data)
            self.events.append((fields["id"], body["seq"]))
            self.keyed.append((body.get("topic"), body["seq"]))
        if fields["id"]:
            self.last_id = fields["id"]

    def disconnect(self):
        sock = self.sock
        if sock is not None:
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    def run(self):
        while not self.stop_flag.is_set():
            if self.parked.is_set():
                time.sleep(0.05)
                continue
            sent_id = self.last_id
            try:
                self.sock, buf = self._connect()
            except (OSError, EOFError, ValueError, IndexError):
                self.failed_connects += 1
                self.target = (self.target + 1) % len(self.servers)
                time.sleep(0.1)
                continue
            self.connects += 1
            self.log.append((time.monotonic(), f"connected to {self.target} after {sent_id}"))
            self.live.set()
            try:
                self.sock.settimeout(0.5)
                while not self.stop_flag.is_set() and not self.parked.is_set():
                    buf = buf.replace(b"\r\n", b"\n")
                    while b"\n\n" in buf:
                        block, buf = buf.split(b"\n\n", 1)
                        self._frame(block, sent_id)
                    try:
                        chunk = self.sock.recv(65536)
                    except socket.timeout:
                        continue
                    if not chunk:
                        break
                    buf += chunk
            except OSError as e:
                self.log.append((time.monotonic(), f"read error {e!r}"))
            finally:
                self.log.append((time.monotonic(), f"disconnected, last {self.last_id}"))
                self.live.clear()
                self.sock.close()
                self.sock = None
            self.target = (self.target + 1) % len(self.servers)
            time.sleep(0.05)


def all_ready(cluster):
    def ready(s):
        try:
            return requests.get(s.url + "/readyz", timeout=1).status_code == 200
        except requests.RequestException:
            return False
    return all(ready(s) for s in cluster.servers)


def test_chaos_kill_instances_and_restart_redis_loses_nothing(make_cluster):
    t0 = time.monotonic()
    cluster = make_cluster(3)
    pub = None
    subs = []
    try:
        servers = cluster.servers
        subs = [Subscriber(n, servers) for n in range(CLIENTS)]
        for s in subs:
            s.start()
        wait_until(lambda: all(s.live.is_set() for s in subs), timeout=10, what="subscribers")
        pub = Publisher(servers)
        pub.start()

        def acked_since(n):
            base = len(pub.acked)
            wait_until(lambda: len(pub.acked) >= base + n, timeout=15, interval=0.05,
                       what=f"{n} more acknowledged events")

        def wait_caught_up(what="clients caught up", timeout=15):
            """Every connected client has the newest event acknowledged when this is called
            (a fixed target: a moving one could be missed by a client always one behind)."""
            target = id_key(pub.acked[-1][1])
            wait_until(lambda: all(s.parked.is_set() or (s.last_id and id_key(s.last_id) >=
                                                          target) for s in subs),
                       timeout=timeout, interval=0.05, what=what)

        def refused_since(kind, n):
            base = pub.refused.get(kind, 0)
            wait_until(lambda: pub.refused.get(kind, 0) >= base + n, timeout=15,
                       interval=0.05, what=f"{n} more publishes refused with {kind}")

        acked_since(100)
        timeline = {}
        for name, victim in (("A", servers[0]), ("B", servers[1])):
            victim.kill()  # SIGKILL: no drain, streams and in-flight publishes just die
            timeline[f"kill {name}"] = time.monotonic() - t0
            # Down for a moment: the survivors keep publishing and delivering, and the
            # publisher has met the dead instance several times.
            acked_since(60)
            refused_since("ConnectionError", 5)
            victim.start()  # same port
            wait_until(lambda: all_ready(cluster), timeout=15, interval=0.1,
                       what="instances ready after restart")
            timeline[f"{name} back"] = time.monotonic() - t0
            acked_since(80)
            wait_caught_up()

        # One subscriber goes offline, some events are published after the last one it saw,
        # then Redis restarts empty: on return it must be told history-lost.
        parked = subs[PARKED]
        parked.parked.set()
        parked.disconnect()
        wait_until(lambda: not parked.live.is_set(), timeout=5, what="parked client offline")
        acked_since(40)
        wait_caught_up()

        port = cluster.redis.port
        last_before_redis_stop = pub.acked[-1][1]
        redis_stop_at = time.monotonic()
        cluster.redis.stop()
        timeline["redis stop"] = redis_stop_at - t0
        wait_until(lambda: not all_ready(cluster), timeout=5, what="/readyz 503 without redis")
        refused_since(503, 20)  # a real outage: publishes answered 503, none acknowledged
        cluster.redis = RedisServer(port=port).start()
        timeline["redis start"] = time.monotonic() - t0
        wait_until(lambda: all_ready(cluster), timeout=15, interval=0.1, what="ready again")
        timeline["all ready"] = time.monotonic() - t0
        acked_since(40)
        origin = cluster.redis.cli("GET", "ssecast:stream:origin")
        assert origin, "the new stream has no origin id"
        parked.parked.clear()
        wait_until(lambda: parked.live.is_set(), timeout=10, what="parked client back")
        acked_since(100)
        pub.stop_flag.set()
        pub.join(timeout=10)
        wait_caught_up("clients drained", timeout=20)
        for s in subs:
            s.stop_flag.set()
        for s in subs:
            s.join(timeout=5)
        elapsed = time.monotonic() - t0

        # ------------------------------------------------------------------ the accounting
        acked = {eid: seq for seq, eid, _ in pub.acked}
        acked_ids = sorted(acked, key=id_key)
        assert len(acked) == len(pub.acked), "the hub gave two events the same id"
        assert [id_key(e) for _, e, _ in pub.acked] == [id_key(e) for e in acked_ids], \
            "ids were not assigned in publish order"
        origin_key = id_key(origin)
        rows = []
        problems = []
        for s in subs:
            ids = [e for e, _ in s.events]
            keys = [id_key(e) for e in ids]
            duplicated = len(ids) - len(set(ids))
            in_order = all(a < b for a, b in zip(keys, keys[1:]))
            # Every delivered event carries the payload its id was acknowledged with.
            mismatched = [e for e, seq in s.events if e in acked and acked[e] != seq]
            got = set(ids)
            missing = [e for e in acked_ids if e not in got]
            # Excusable: older than the new stream AND newer than the id of a history-lost
            # this client was sent (it resumed from before the gap).
            excused = [e for e in missing if id_key(e) < origin_key and any(
                id_key(sent) < id_key(e) for sent, _, _ in s.history_lost)]
            lost = len(missing) - len(excused)
            for announced, sent, at in s.history_lost:
                if announced != sent:
                    problems.append(f"c{s.n}: history-lost says {announced}, sent {sent}")
                if sent is None or id_key(sent) >= origin_key:
                    problems.append(f"c{s.n}: history-lost for {sent}, not older than the "
                                    f"new stream (origin {origin})")
                if at < redis_stop_at:
                    problems.append(f"c{s.n}: history-lost before the Redis restart")
            if duplicated or not in_order or lost or mismatched:
                problems.append(f"c{s.n} log: " + "; ".join(
                    f"{at - t0:.2f} {what}" for at, what in s.log))
                problems.append(f"c{s.n}: duplicated={duplicated} in_order={in_order} "
                                f"lost={lost} (first {missing[:3]}) mismatched={mismatched[:3]}")
            rows.append((f"c{s.n}", len(ids), sum(1 for e in ids if e in acked),
                         lost, duplicated, len(s.history_lost), len(excused), s.connects))

        unacked_delivered = len({e for s in subs for e, _ in s.events} - set(acked))
        print(f"\nchaos run: {elapsed:.1f} s; timeline (s): "
              + ", ".join(f"{k} {v:.1f}" for k, v in timeline.items()))
        print(f"published (attempts) {pub.attempts}, acknowledged {len(acked)}, refused "
              f"{dict(sorted(pub.refused.items(), key=str))}, delivered but not acknowledged "
              f"(answer lost in a kill) {unacked_delivered}; new stream origin {origin}")
        print(f"{'client':>6} {'delivered':>9} {'of acked':>8} {'lost':>4} {'dup':>4} "
              f"{'hist-lost':>9} {'excused':>7} {'connects':>8}")
        for r in rows:
            print(f"{r[0]:>6} {r[1]:>9} {r[2]:>8} {r[3]:>4} {r[4]:>4} {r[5]:>9} {r[6]:>7} "
                  f"{r[7]:>8}")
        assert not problems, "\n".join(problems)
        # The parked client exercised the history-lost path, and nobody else needed it.
        assert subs[PARKED].history_lost, "the parked client was not told history-lost"
        assert rows[PARKED][6] > 0, "the parked client should have missed pre-restart events"
        assert all(any(e == last_before_redis_stop for e, _ in s.events)
                   for s in subs if s is not parked)
        # Restarted instances wrote nothing alarming; nothing crashed except by our SIGKILL.
        for s in cluster.servers:
            assert s.proc.poll() is None, s.logs()[-3000:]
            assert "ThreadSanitizer" not in s.logs()
            assert "AddressSanitizer" not in s.logs()
    finally:
        if pub is not None:
            pub.stop_flag.set()
        for s in subs:
            s.stop_flag.set()
            s.disconnect()
