# SPDX-License-Identifier: MIT
# Health, readiness, metrics, SIGTERM drain, connection limits, slow clients, slowloris.
import socket
import time

import requests

from conftest import SSEStream, wait_until


def test_health_and_ready(server):
    assert requests.get(server.url + "/healthz", timeout=5).json() == {"status": "ok"}
    assert requests.get(server.url + "/readyz", timeout=5).status_code == 200
    assert requests.get(server.url + "/nope", timeout=5).status_code == 404




def test_metrics_count_connections_and_events(server):
    text = requests.get(server.url + "/metrics", timeout=5).text
    assert "# TYPE ssecast_events_published_total counter" in text
    assert "# TYPE ssecast_publish_to_write_seconds histogram" in text
    s = server.subscribe("t")
    wait_until(lambda: server.metric("ssecast_connections") == 1, what="gauge at 1")
    for i in range(3):
        server.publish({"topic": "t", "data": i})
    s.events(3)
    assert server.metric("ssecast_events_published_total") == 3
    assert server.metric("ssecast_events_delivered_total") == 3
    wait_until(lambda: server.metric('ssecast_publish_to_write_seconds_count') == 3,
               what="latency observations")
    s.close()
    wait_until(lambda: server.metric("ssecast_connections") == 0, what="gauge back to 0")
    assert server.metric("ssecast_disconnects_total") == 1


def test_sigterm_drains_streams_and_exits_zero(make_server):
    srv = make_server(env={"SSECAST_SHUTDOWN_GRACE_SECONDS": "5"}).start()
    streams = [srv.subscribe("t") for _ in range(5)]
    srv.publish({"topic": "t", "data": 1})
    for s in streams:
        s.next_event()
    started = time.monotonic()
    srv.proc.send_signal(15)
    assert all(s.wait_closed(timeout=5) for s in streams)
    assert srv.proc.wait(timeout=10) == 0
    assert time.monotonic() - started < 5
    assert "draining" in srv.logs()


def test_max_connections_gives_503(make_server):
    srv = make_server(env={"SSECAST_LIMITS_MAX_CONNECTIONS": "3"}).start()
    open_ = [srv.subscribe("t") for _ in range(3)]
    assert all(s.status == 200 for s in open_)
    over = srv.subscribe("t")
    assert over.status == 503
    assert over.body()["error"] == "over_capacity"
    assert over.headers["retry-after"]
    open_[0].close()
    wait_until(lambda: srv.subscribe("t").status == 200, what="a free slot")


def test_slow_consumer_is_cut_and_others_unaffected(make_server):
    srv = make_server(env={"SSECAST_LIMITS_MAX_QUEUE_BYTES": "65536"}).start()
    slow = SSEStream(srv, ["t"], rcvbuf=4096)
    fast = srv.subscribe("t")
    payload = "x" * 8000
    n = 1200  # ~10 MB: far more than the socket buffers plus the 64 KiB queue
    for i in range(n):
        assert srv.publish({"topic": "t", "data": f"{i}:{payload}"}).status_code == 200
        if i % 50 == 0:
            fast.events(50 if i else 1)
    wait_until(lambda: srv.metric("ssecast_events_dropped_total") >= 1, what="slow client cut")
    assert "slow" in srv.logs()
    # The fast client got everything in order.
    remaining = []
    try:
        while True:
            remaining.append(fast.next_event(timeout=3)["data"].split(":")[0])
    except (TimeoutError, socket.timeout):
        pass
    assert remaining[-1] == str(n - 1)
    # The slow one's stream ends (after the bytes already in flight).
    slow.sock.setblocking(True)
    assert slow.wait_closed(timeout=10)
    fast.close()


def test_slowloris_header_timeout(make_server):
    srv = make_server(env={"SSECAST_HTTP_HEADER_TIMEOUT_SECONDS": "1"}).start()
    sock = socket.create_connection(("127.0.0.1", srv.port))
    sock.sendall(b"GET /events?topic=t HTTP/1.1\r\nHost: x\r\n")
    sock.settimeout(5)
    started = time.monotonic()
    assert sock.recv(100) == b""  # closed by the server
    assert time.monotonic() - started < 4
    sock.close()


def test_malformed_request_gets_400(server):
    sock = socket.create_connection(("127.0.0.1", server.port))
    sock.sendall(b"GARBAGE\x01 / HTTP/9\r\n\r\n")
    sock.settimeout(5)
    data = sock.recv(4096)
    assert data.startswith(b"HTTP/1.1 400")
    assert b'"error":"bad_request"' in data
    sock.close()
    assert requests.get(server.url + "/healthz", timeout=5).status_code == 200
