# SPDX-License-Identifier: MIT
# Helpers of the bad-input tests (test_bad_*.py, issue #7 §3): a raw request/answer exchange
# on a fresh socket, and the check that the server still serves. Holds no tests itself.
import socket


def raw_exchange(srv, data, timeout=5.0, chunks=None):
    """Sends `data` (or the byte strings yielded by `chunks`) on a fresh socket and returns
    (status, headers, body bytes) of the answer; status is None when the server closed the
    connection without one. A reset while sending is tolerated: the server may answer and
    close before it has read everything."""
    sock = socket.create_connection(("127.0.0.1", srv.port))
    sock.settimeout(timeout)
    try:
        for part in chunks if chunks is not None else [data]:
            try:
                sock.sendall(part)
            except (BrokenPipeError, ConnectionResetError):
                break
        buf = b""
        while True:
            try:
                chunk = sock.recv(65536)
            except ConnectionResetError:
                break
            if not chunk:
                break
            buf += chunk
            if b"\r\n\r\n" in buf:
                head, body = buf.split(b"\r\n\r\n", 1)
                length = [int(line.split(b":")[1]) for line in head.split(b"\r\n")
                          if line.lower().startswith(b"content-length:")]
                if length and len(body) >= length[0]:
                    break
    finally:
        sock.close()
    if not buf.startswith(b"HTTP/1.1 "):
        return None, {}, buf
    head, _, body = buf.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    headers = {k.strip().lower(): v.strip() for k, _, v in (l.partition(":") for l in lines[1:])}
    return int(lines[0].split()[1]), headers, body


def assert_round_trip(srv, topic="alive"):
    """The server still serves a normal subscribe → publish → event."""
    s = srv.subscribe(topic)
    try:
        assert s.status == 200
        r = srv.publish({"topic": topic, "data": "still-alive"})
        assert r.status_code == 200
        event = s.next_event(timeout=5)
        assert event["data"] == "still-alive"
        assert event["id"] == r.json()["id"]
    finally:
        s.close()
