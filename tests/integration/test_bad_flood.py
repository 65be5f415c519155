# SPDX-License-Identifier: MIT
# Exhaustion attempts (issue #7 §3): a 10,000-connection flood past max_connections, and
# clients that never read; memory and descriptors stay bounded, publishing goes on. (503 past
# max_connections and one slow consumer cut are in test_core_operations.py.)
import errno
import json
import os
import resource
import selectors
import socket
import threading
import time

import requests

from bad_input_support import assert_round_trip
from conftest import CheckedThread, rss_kib, PUBLISH_KEY, SSEStream, wait_until


# --- connection flood -------------------------------------------------------------------------
def open_files_limit(pid):
    """The soft RLIMIT_NOFILE of a process, from /proc/<pid>/limits."""
    with open(f"/proc/{pid}/limits") as f:
        for line in f:
            if line.startswith("Max open files"):
                return int(line.split()[3])
    raise AssertionError("no Max open files")


def flood_subscribe(srv, topic, n, timeout):
    """Opens n connections at once (non-blocking connects, all issued before any answer is
    read), sends one GET /events on each as soon as it is connected, and reads every answer's
    head (and, for a refusal, its body) on one epoll loop. Returns (socket, answer) pairs,
    answer being (status, headers, body bytes) or ("error", errno, where). Every socket is
    left open: the caller closes them."""
    req = (f"GET /events?topic={topic} HTTP/1.1\r\nHost: {srv.host}:{srv.port}\r\n"
           "Accept: text/event-stream\r\n\r\n").encode()
    sel = selectors.DefaultSelector()
    socks, answers, bufs = [], {}, {}
    for _ in range(n):
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.setblocking(False)
        socks.append(s)
        rc = s.connect_ex((srv.host, srv.port))
        if rc not in (0, errno.EINPROGRESS):
            answers[s] = ("error", rc, "connect")
            continue
        bufs[s] = b""
        sel.register(s, selectors.EVENT_WRITE)
    deadline = time.monotonic() + timeout
    while len(answers) < n and time.monotonic() < deadline:
        for key, mask in sel.select(timeout=0.2):
            s = key.fileobj
            if mask & selectors.EVENT_WRITE:
                err = s.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
                if err:
                    answers[s] = ("error", err, "connect")
                    sel.unregister(s)
                    continue
                assert s.send(req) == len(req)  # a fresh socket's buffer takes 100 bytes
                sel.modify(s, selectors.EVENT_READ)
                continue
            try:
                chunk = s.recv(65536)
            except OSError as e:
                answers[s] = ("error", e.errno, "recv")
                sel.unregister(s)
                continue
            if not chunk:
                answers[s] = ("error", 0, "eof after %r" % bufs[s][:60])
                sel.unregister(s)
                continue
            bufs[s] += chunk
            if b"\r\n\r\n" not in bufs[s]:
                continue
            head, body = bufs[s].split(b"\r\n\r\n", 1)
            lines = head.decode("latin-1").split("\r\n")
            headers = {k.strip().lower(): v.strip()
                       for k, _, v in (line.partition(":") for line in lines[1:])}
            status = int(lines[0].split()[1])
            if status == 200 or len(body) >= int(headers.get("content-length", "0")):
                answers[s] = (status, headers, body)
                sel.unregister(s)
    sel.close()
    for s in socks:
        answers.setdefault(s, ("error", 0, "no answer within %ss" % timeout))
    return [(s, answers[s]) for s in socks]


def read_until(sock, needle, timeout=5.0):
    """Reads a raw stream socket until `needle` arrived; returns what was read."""
    sock.setblocking(True)
    sock.settimeout(timeout)
    buf = b""
    while needle not in buf:
        chunk = sock.recv(65536)
        if not chunk:
            raise EOFError(f"closed before {needle!r}; got {buf[-200:]!r}")
        buf += chunk
    return buf


def test_connection_flood_past_max_connections(make_server):
    """10,000 connections opened at once past limits.max_connections while 40 subscribers
    are connected and events are being published: exactly the free slots are admitted, every
    other connection gets 503 JSON `over_capacity` with Retry-After and is then closed by
    the server (no reset, no silent close, no session held), the connected subscribers get every
    event published during and after the flood, memory stays bounded, and afterwards the
    server is healthy with the connection count and open files back where they were."""
    limit, connected, total = 100, 40, 10_000
    _, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    # The test holds `total` sockets and the server as many; the server inherits this limit
    # (and raises its own soft limit to the hard one at start-up).
    assert hard >= total + 1024, f"hard RLIMIT_NOFILE {hard} is too low for {total} sockets"
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    # ASan parks freed memory in a quarantine that would count as growth (see below).
    srv = make_server(env={"SSECAST_LIMITS_MAX_CONNECTIONS": str(limit),
                           "ASAN_OPTIONS": "detect_leaks=1:quarantine_size_mb=4"}).start()
    assert open_files_limit(srv.proc.pid) >= total + 1024
    subscribers = [srv.subscribe("flood") for _ in range(connected)]
    assert all(s.status == 200 for s in subscribers)
    wait_until(lambda: srv.metric("ssecast_connections") == connected, what="subscribers in")
    fds_before = len(os.listdir(f"/proc/{srv.proc.pid}/fd"))
    rss_before = rss_kib(srv)

    published, publish_errors = [], []
    stop = threading.Event()

    def publish_meanwhile():
        session = requests.Session()
        i = 0
        while not stop.is_set():
            try:
                r = session.post(srv.url + "/publish",
                                 data=json.dumps({"topic": "flood", "data": f"during-{i}"}),
                                 headers={"Authorization": f"Bearer {PUBLISH_KEY}"}, timeout=10)
            except requests.RequestException as e:
                publish_errors.append(repr(e))
                return
            if r.status_code != 200:
                publish_errors.append(f"{r.status_code} {r.text}")
                return
            published.append((f"during-{i}", r.json()["id"]))
            i += 1
            time.sleep(0.01)

    publisher = CheckedThread(publish_meanwhile)
    publisher.start()
    wait_until(lambda: len(published) >= 3, what="publishing before the flood")
    started = time.monotonic()
    flood = flood_subscribe(srv, "flood", total, timeout=20)
    flood_seconds = time.monotonic() - started
    try:
        admitted = [s for s, a in flood if a[0] == 200]
        refused = [a for _, a in flood if a[0] == 503]
        others = [a for _, a in flood if a[0] not in (200, 503)]
        assert not others, f"{len(others)} neither admitted nor 503, e.g. {others[:5]}"
        assert len(admitted) == limit - connected
        assert len(refused) == total - (limit - connected)
        for status, headers, body in refused:
            assert headers["content-type"].startswith("application/json")
            assert headers["retry-after"] == "5"
            assert headers["connection"] == "close"
            assert json.loads(body)["error"] == "over_capacity"
        # The server sheds every refused connection right after its 503, even though the
        # client keeps its end open: a flood does not hold sessions (memory, descriptors)
        # until their header timeout. Publishing goes on.
        for sock, answer in flood:
            if answer[0] == 503:
                sock.settimeout(5)
                assert sock.recv(1) == b"", "a refused connection was kept open"
        # (+ 1: the publisher's keep-alive connection, opened after fds_before was taken)
        wait_until(lambda: len(os.listdir(f"/proc/{srv.proc.pid}/fd")) <=
                   fds_before + len(admitted) + 1, timeout=15,
                   what="the server's descriptors of the refused connections closed")
        n = len(published)
        wait_until(lambda: len(published) >= n + 20, what="publishing during the held flood")
        assert srv.metric("ssecast_connections") == limit
        peak = rss_kib(srv, "VmHWM")
    finally:
        stop.set()
        publisher.join(timeout=15)
    try:
        assert not publish_errors, publish_errors
        # The peak includes every connection of the flood at once, before the refusals
        # were sent and the sessions freed (coroutine frame, read buffer, parser): about
        # 5.5 KiB each measured in the release build with sessions kept open, 8.3 KiB under
        # ASan (redzones). 12 KiB each (117 MiB) bounds that with room; a per-connection copy
        # of anything bigger (a 64 KiB buffer, a stream's state, the refusal kept after it
        # was sent) would exceed it many times.
        assert peak - rss_before < total * 12, f"RSS grew by {peak - rss_before} KiB"
        # The subscribers connected before the flood got every event of the flood's
        # duration, in order, with the ids the publisher was given.
        expected = published[:]
        for s in subscribers:
            got = [(e["data"], e["id"]) for e in s.events(len(expected), timeout=10)]
            assert got == expected
        r = srv.publish({"topic": "flood", "data": "after-flood"})
        assert r.status_code == 200
        for s in subscribers:
            assert s.next_event(timeout=5)["data"] == "after-flood"
        for s in admitted:  # the streams admitted during the flood work too
            read_until(s, b"data: after-flood\n")
    finally:
        for s, _ in flood:
            s.close()
    wait_until(lambda: srv.metric("ssecast_connections") == connected, timeout=15,
               what="the connection count back to its pre-flood value")
    assert srv.admin().json()["local"]["connections"] == connected
    # The refused sessions are gone too, not only the streams: no descriptor is left behind.
    wait_until(lambda: len(os.listdir(f"/proc/{srv.proc.pid}/fd")) <= fds_before, timeout=15,
               what="the server's open files back to their pre-flood count")
    assert requests.get(srv.url + "/healthz", timeout=5).status_code == 200
    assert_round_trip(srv)
    for s in subscribers:
        s.close()
    print(f"flood of {total}: answered in {flood_seconds:.2f}s, RSS {rss_before} -> "
          f"peak {peak} KiB")


# --- clients that never read ----------------------------------------------------------------
def test_never_reading_clients_are_cut_and_memory_stays_bounded(make_server):
    queue = 64 * 1024
    # Under ASan, freed memory sits in a quarantine (256 MB by default) and would count as
    # growth; keep it small so RSS measures what the server holds (ignored by other builds).
    srv = make_server(env={"SSECAST_LIMITS_MAX_QUEUE_BYTES": str(queue),
                           "ASAN_OPTIONS": "detect_leaks=1:quarantine_size_mb=4"}).start()
    stalled = [SSEStream(srv, ["flow"], rcvbuf=4096) for _ in range(10)]
    reader = srv.subscribe("flow")
    assert all(s.status == 200 for s in stalled + [reader])
    dropped_before = srv.metric("ssecast_events_dropped_total")
    before = rss_kib(srv)
    peak = before
    received = []
    stop = threading.Event()

    def read_all():
        while not stop.is_set():
            try:
                received.append(reader.next_event(timeout=1)["data"])
            except (TimeoutError, socket.timeout):
                continue
            except EOFError:
                return

    t = CheckedThread(read_all)
    t.start()
    payload = "y" * 8000
    n = 1500  # 12 MB per subscriber; 120 MB if the stalled ones were buffered
    session = requests.Session()
    for i in range(n):
        r = session.post(srv.url + "/publish", data=json.dumps({"topic": "flow",
                                                                "data": f"{i}:{payload}"}),
                         headers={"Authorization": f"Bearer {PUBLISH_KEY}"}, timeout=10)
        assert r.status_code == 200
        if i % 100 == 0:
            peak = max(peak, rss_kib(srv))
    peak = max(peak, rss_kib(srv))
    wait_until(lambda: len(received) >= n, timeout=30, what="the reader got everything")
    stop.set()
    t.join(timeout=5)
    assert [int(d.split(":")[0]) for d in received] == list(range(n))
    wait_until(lambda: srv.metric("ssecast_events_dropped_total") >= dropped_before + 10,
               what="every stalled client cut and counted")
    # 10 stalled clients × (queue + kernel buffers) + allocator slack; far below 120 MB.
    assert peak - before < 48 * 1024, f"RSS grew by {peak - before} KiB"
    for s in stalled:
        assert s.wait_closed(timeout=10)
        s.close()
    reader.close()
    assert_round_trip(srv)
