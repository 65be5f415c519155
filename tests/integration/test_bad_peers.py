# SPDX-License-Identifier: MIT
# Peers that vanish without a FIN (issue #7 §3): a rebooted host (forgotten connection, via
# TCP_REPAIR) and a pulled cable (a network namespace whose link goes down). Need root.
import os
import queue
import socket
import subprocess
import sys
import threading
import time

import pytest

from bad_input_support import assert_round_trip
from conftest import wait_until


# --- half-open peers: gone without a FIN -------------------------------------------------------
TCP_REPAIR = 19  # linux/tcp.h; not exported by the socket module

needs_root = pytest.mark.skipif(os.geteuid() != 0,
                                reason="TCP_REPAIR and network namespaces need root")


def forget_connection(sock):
    """Makes this host forget a connection without telling the peer, as if it had rebooted:
    in TCP_REPAIR mode (CRIU's checkpoint mode, CAP_NET_ADMIN) close() sends neither FIN nor
    RST. The peer's next segment is answered by a RST, since no socket has that port any
    more."""
    sock.setsockopt(socket.IPPROTO_TCP, TCP_REPAIR, 1)
    sock.close()


def wait_for_drop(srv, count, timeout):
    """Polls until ssecast_connections is below `count`; returns the seconds it took, or
    None when it did not happen within timeout."""
    started = time.monotonic()
    while time.monotonic() - started < timeout:
        if srv.metric("ssecast_connections") < count:
            return time.monotonic() - started
        time.sleep(0.05)
    return None


def check_forgotten_peer_dropped_at_heartbeat(make_server, heartbeat, expected_heartbeat=None):
    """The body of the test below; `expected_heartbeat` lets the same checks run against a
    server configured otherwise (to see them fail when heartbeats do not come)."""
    expected = expected_heartbeat or heartbeat
    srv = make_server(env={"SSECAST_SSE_HEARTBEAT_SECONDS": str(heartbeat)}).start()
    other = srv.subscribe("near")
    victim = srv.subscribe("far")
    subscribed = time.monotonic()  # the heartbeat is due one interval after the last write
    assert other.status == victim.status == 200
    wait_until(lambda: srv.metric("ssecast_connections") == 2, what="both streams counted")
    disconnects = srv.metric("ssecast_disconnects_total")
    forget_connection(victim.sock)
    # Nothing was sent: until the heartbeat is due the server still counts the stream (an
    # ordinary close is seen at once by the stream's read-side watcher).
    dropped = wait_for_drop(srv, 2, timeout=expected - 0.4 - (time.monotonic() - subscribed))
    assert dropped is None, f"dropped {dropped:.2f}s after the close, before any heartbeat"
    # The heartbeat meets a RST and ends the stream: one interval after the last write, plus
    # the heartbeat sweep's tick (≤ 1 s) and slack.
    bound = expected + 2.5
    dropped = wait_for_drop(srv, 2, timeout=subscribed + bound - time.monotonic())
    assert dropped is not None, (f"the forgotten stream was still counted {bound}s after its "
                                 f"last write (heartbeat {expected}s)")
    assert srv.metric("ssecast_connections") == 1
    assert srv.metric("ssecast_disconnects_total") == disconnects + 1
    doc = srv.admin().json()
    assert doc["local"]["connections"] == 1 and doc["global"]["connections"] == 1
    # The neighbour never noticed: it still gets events, and nothing it got was lost.
    for i in range(3):
        assert srv.publish({"topic": "near", "data": f"after-{i}"}).status_code == 200
    assert [e["data"] for e in other.events(3, timeout=5)] == ["after-0", "after-1", "after-2"]
    assert other.comments >= 1  # it got the heartbeats the forgotten one did not answer
    other.close()
    assert_round_trip(srv)


@needs_root
@pytest.mark.parametrize("heartbeat", [1, 4])
def test_forgotten_peer_is_dropped_at_the_next_heartbeat(make_server, heartbeat):
    """A client whose host rebooted (its kernel forgot the connection; no FIN, no RST) is
    found by the next heartbeat, which the client's kernel answers with a RST: the stream is
    dropped and counted, the other subscriber unaffected. With a 4 s heartbeat the stream is
    demonstrably still counted for ~3.5 s after the close, so the close really sent nothing
    and the heartbeat, not the close, is what ends it."""
    check_forgotten_peer_dropped_at_heartbeat(make_server, heartbeat)


class FarPeer:
    """A client host behind a cable that can be pulled: a network namespace joined to this
    one by a veth pair, with 127.x addresses on both ends (route_localnet lets 127/8 cross a
    non-loopback link; a /32 route in this namespace's `local` table sends the client's one
    address to the veth instead of to lo). `unplug()` takes the namespace's end down: what
    the server sends after that is dropped by the veth, no ACK and no RST ever come back.
    Every name is unique per test run; `close()` deletes the link (with it the route) and
    the namespace."""

    _count = 0

    def __init__(self):
        FarPeer._count += 1
        pid, n = os.getpid(), FarPeer._count
        self.ns = f"ssecast-test-{pid}-{n}"
        self.host_if, self.peer_if = f"ssc{pid}h{n}"[:15], f"ssc{pid}p{n}"[:15]
        net = f"127.{128 + (pid >> 8) % 120}.{pid & 0xff}"
        self.server_ip, self.client_ip = f"{net}.{4 * (n % 60) + 1}", f"{net}.{4 * (n % 60) + 2}"
        self.clients = []

    @staticmethod
    def _run(*cmd):
        r = subprocess.run(cmd, capture_output=True, text=True, timeout=10)
        assert r.returncode == 0, f"{' '.join(cmd)}: {r.stderr}"

    def open(self):
        in_ns = ["ip", "netns", "exec", self.ns]
        self._run("ip", "netns", "add", self.ns)
        self._run("ip", "link", "add", self.host_if, "type", "veth", "peer", "name",
                  self.peer_if, "netns", self.ns)
        self._run("sysctl", "-qw", f"net.ipv4.conf.{self.host_if}.route_localnet=1")
        self._run(*in_ns, "sysctl", "-qw", f"net.ipv4.conf.{self.peer_if}.route_localnet=1")
        self._run("ip", "-n", self.ns, "addr", "add", self.client_ip + "/32", "dev",
                  self.peer_if)
        self._run("ip", "link", "set", self.host_if, "up")
        self._run("ip", "-n", self.ns, "link", "set", self.peer_if, "up")
        self._run("ip", "route", "add", "table", "local", self.client_ip + "/32", "dev",
                  self.host_if)
        self._run("ip", "-n", self.ns, "route", "add", self.server_ip + "/32", "dev",
                  self.peer_if)
        return self

    def subscribe(self, srv, topic):
        """A subscriber inside the namespace (a small python process): prints the status
        line, then each data line it receives. Returns a queue of those lines."""
        script = f"""
import socket, struct
s = socket.create_connection(({srv.host!r}, {srv.port}), timeout=10)
# Killed later: abort instead of leaving a FIN_WAIT socket (and the namespace) behind.
s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
s.sendall(b"GET /events?topic={topic} HTTP/1.1\\r\\nHost: x\\r\\n\\r\\n")
s.settimeout(None)
f = s.makefile("rb")
print(f.readline().decode().strip(), flush=True)
for line in f:
    if line.startswith(b"data:"):
        print(line.decode().strip(), flush=True)
"""
        proc = subprocess.Popen(["ip", "netns", "exec", self.ns, sys.executable, "-c", script],
                                stdout=subprocess.PIPE, text=True)
        self.clients.append(proc)
        lines = queue.Queue()

        def pump():
            for line in proc.stdout:
                lines.put(line.strip())

        threading.Thread(target=pump, daemon=True).start()
        return lines

    def unplug(self):
        self._run("ip", "-n", self.ns, "link", "set", self.peer_if, "down")

    def close(self):
        for proc in self.clients:
            proc.kill()
            proc.wait(timeout=5)
        # Deleting one end of a veth pair deletes both, and the route through it.
        subprocess.run(["ip", "link", "del", self.host_if], capture_output=True, timeout=10)
        subprocess.run(["ip", "netns", "del", self.ns], capture_output=True, timeout=10)
        left = subprocess.run(["ip", "-o", "link", "show", self.host_if], capture_output=True,
                              timeout=10)
        assert left.returncode != 0, f"{self.host_if} is still there"


@pytest.fixture
def far_peer():
    peer = FarPeer()
    try:
        yield peer.open()
    finally:
        peer.close()


def check_blackholed_peer_dropped(make_server, far_peer, heartbeat):
    """The body of the test below (`heartbeat` varies only to see it fail without them)."""
    srv = make_server(host=far_peer.server_ip,
                      env={"SSECAST_SSE_HEARTBEAT_SECONDS": str(heartbeat)}).start()
    near = srv.subscribe("near")
    far = far_peer.subscribe(srv, "far")
    assert far.get(timeout=10) == "HTTP/1.1 200 OK"
    wait_until(lambda: srv.metric("ssecast_connections") == 2, what="both streams counted")
    # The far subscriber really is connected over the veth: it gets an event.
    assert srv.publish({"topic": "far", "data": "before"}).status_code == 200
    assert far.get(timeout=5) == "data: before"
    disconnects = srv.metric("ssecast_disconnects_total")

    far_peer.unplug()
    unplugged = time.monotonic()
    dropped_after = None
    i = 0
    while time.monotonic() - unplugged < 60:
        # Nothing is published to the far subscriber: only heartbeats go its way. Events
        # keep flowing to the near one, promptly.
        r = srv.publish({"topic": "near", "data": f"during-{i}"})
        assert r.status_code == 200
        assert near.next_event(timeout=5)["data"] == f"during-{i}"
        i += 1
        if srv.metric("ssecast_connections") < 2:
            dropped_after = time.monotonic() - unplugged
            break
        time.sleep(0.25)
    assert dropped_after is not None, "the blackholed stream was still counted after 60 s"
    # Not sooner: nothing answered (a RST would end it at the next heartbeat, ~1 s); the
    # 30 s user timeout did, counted from the first unacknowledged heartbeat (≤ 1 s later).
    assert 29 <= dropped_after <= 40, f"dropped {dropped_after:.1f}s after the unplug"
    assert far.empty(), f"the far subscriber got {far.get()!r} after the unplug"
    assert srv.metric("ssecast_connections") == 1
    assert srv.metric("ssecast_disconnects_total") == disconnects + 1
    assert srv.admin().json()["local"]["connections"] == 1
    assert srv.publish({"topic": "near", "data": "after"}).status_code == 200
    assert near.next_event(timeout=5)["data"] == "after"
    near.close()
    assert_round_trip(srv)
    print(f"blackholed stream dropped {dropped_after:.1f}s after the unplug")


@needs_root
def test_blackholed_peer_is_dropped_after_tcp_user_timeout(make_server, far_peer):
    """A subscriber whose network vanished (its link went down: no ACK, no RST ever): the
    server's heartbeats go unacknowledged, TCP_USER_TIMEOUT (max(30 s, 3 × heartbeat) =
    30 s here) fails the connection, and the stream is dropped and counted instead of TCP
    retransmitting for ~15 minutes. The subscriber next to it gets every event meanwhile.
    Takes ~31 s."""
    check_blackholed_peer_dropped(make_server, far_peer, heartbeat=1)
