# SPDX-License-Identifier: MIT
# Regression tests for the HTTP-side findings of the outside probe (issue #12): the /admin/
# file read, CORS with "*", request smuggling through Transfer-Encoding, Host, the demo key
# behind a same-host proxy, forged internal identities, empty tokens, sse.max_topics, and
# error JSON that quotes invalid UTF-8. Every request that must not be normalised by a client
# library goes over a raw socket.
import json
import os
import socket
import time

import pytest
import requests

from conftest import PUBLISH_KEY, make_token, rss_kib, wait_until


def raw(srv, data, timeout=5.0):
    """Sends `data` on a fresh connection and reads until the server closes it or `timeout`
    passes. Returns (responses, closed): each response as (status, headers, body bytes), and
    whether the server closed the connection."""
    sock = socket.create_connection((srv.host, srv.port))
    sock.settimeout(0.3)
    buf = b""
    closed = False
    deadline = time.monotonic() + timeout
    try:
        sock.sendall(data)
        while time.monotonic() < deadline:
            try:
                chunk = sock.recv(1 << 20)
            except socket.timeout:
                if buf and buf.count(b"HTTP/1.1 ") >= 1 and _complete(buf):
                    break
                continue
            except ConnectionResetError:
                closed = True
                break
            if not chunk:
                closed = True
                break
            buf += chunk
    finally:
        sock.close()
    return _parse_all(buf), closed


def _complete(buf):
    try:
        _parse_all(buf, strict=True)
        return True
    except ValueError:
        return False


def _parse_all(buf, strict=False):
    out = []
    while buf.startswith(b"HTTP/1.1 "):
        head, sep, rest = buf.partition(b"\r\n\r\n")
        if not sep:
            if strict:
                raise ValueError("partial head")
            break
        lines = head.decode("latin-1").split("\r\n")
        headers = {}
        for line in lines[1:]:
            k, _, v = line.partition(":")
            headers.setdefault(k.strip().lower(), []).append(v.strip())
        n = int(headers.get("content-length", ["0"])[0])
        if strict and len(rest) < n:
            raise ValueError("partial body")
        out.append((int(lines[0].split()[1]), headers, rest[:n]))
        buf = rest[n:]
    return out


def get(srv, target, extra=b""):
    return raw(srv, b"GET " + target + b" HTTP/1.1\r\nHost: x\r\n" + extra + b"\r\n")


# --- finding 1: the /admin/ file read ---------------------------------------------------------


@pytest.fixture
def admin_srv(make_server, tmp_path):
    dist = tmp_path / "dist"
    (dist / "assets").mkdir(parents=True)
    (dist / "index.html").write_text("<p>admin ui</p>")
    (dist / "assets" / "app-1a2b.js").write_text("console.log(1)")
    (tmp_path / "secret.toml").write_text('jwt_secret = "do-not-leak"')
    os.symlink(tmp_path / "secret.toml", dist / "link-out.txt")
    os.symlink("/etc", dist / "etc")
    os.symlink("/dev/zero", dist / "zero")
    os.mkfifo(dist / "fifo")
    with open(dist / "huge.js", "wb") as f:
        f.truncate(64 * 1024 * 1024)  # sparse: 64 MiB announced, nothing on disk
    (dist / ".env").write_text("SECRET=1")
    srv = make_server(env={"SSECAST_HTTP_ADMIN_DIR": str(dist)}).start()
    return srv


ESCAPES = [
    b"/admin//etc/hostname", b"/admin//proc/self/environ", b"/admin//dev/zero",
    b"/admin/../../../../etc/hostname", b"/admin/assets/../../secret.toml",
    b"/admin/%2e%2e/secret.toml", b"/admin/%2fetc%2fhostname", b"/admin/index.html%00.js",
    b"/admin/link-out.txt", b"/admin/etc/hostname", b"/admin/zero", b"/admin/fifo",
    b"/admin/huge.js", b"/admin/.env", b"/admin/assets", b"/admin/assets/", b"/admin/./index.html",
]


@pytest.mark.parametrize("target", ESCAPES, ids=[t.decode() for t in ESCAPES])
def test_admin_paths_that_leave_the_directory_are_404(admin_srv, target):
    rss_before = rss_kib(admin_srv)
    responses, _ = get(admin_srv, target)
    assert len(responses) == 1, responses
    status, headers, body = responses[0]
    assert status == 404, (target, status, body[:200])
    assert json.loads(body)["error"] == "not_found"
    assert b"do-not-leak" not in body and b"localhost" not in body
    # /dev/zero and the sparse file were not read into memory (the probe saw 565 MB).
    assert rss_kib(admin_srv) < rss_before + 32 * 1024
    # The server still serves its own files afterwards (a FIFO open did not block a loop).
    assert requests.get(admin_srv.url + "/admin/assets/app-1a2b.js", timeout=5).status_code == 200


def test_admin_ui_files_are_still_served(admin_srv):
    index = requests.get(admin_srv.url + "/admin", timeout=5)
    assert index.status_code == 200 and index.text == "<p>admin ui</p>"
    assert index.headers["cache-control"] == "no-cache"
    js = requests.get(admin_srv.url + "/admin/assets/app-1a2b.js", timeout=5)
    assert js.status_code == 200 and js.text == "console.log(1)"
    assert js.headers["content-type"].startswith("text/javascript")
    assert "immutable" in js.headers["cache-control"]
    assert js.headers["x-content-type-options"] == "nosniff"


# --- finding 4: CORS "*" ---------------------------------------------------------------------


def test_cors_star_is_literal_and_never_with_credentials(make_server):
    srv = make_server(env={"SSECAST_HTTP_CORS_ORIGINS": "*"}).start()
    for headers in ({"Origin": "https://evil.example"}, {}):
        s = srv.subscribe("t", headers=headers)
        assert s.headers["access-control-allow-origin"] == "*"
        assert "access-control-allow-credentials" not in s.headers
        s.close()
    r = requests.get(srv.url + "/healthz", headers={"Origin": "https://evil.example"}, timeout=5)
    assert r.headers["access-control-allow-origin"] == "*"
    assert "access-control-allow-credentials" not in r.headers


def test_cors_listed_origin_gets_credentials_and_every_answer_varies_on_origin(make_server):
    srv = make_server(env={"SSECAST_HTTP_CORS_ORIGINS": "https://app.example,*"}).start()
    s = srv.subscribe("t", headers={"Origin": "https://app.example"})
    assert s.headers["access-control-allow-origin"] == "https://app.example"
    assert s.headers["access-control-allow-credentials"] == "true"
    assert "Origin" in s.headers["vary"]
    s.close()
    other = srv.subscribe("t", headers={"Origin": "https://evil.example"})
    assert other.headers["access-control-allow-origin"] == "*"
    assert "access-control-allow-credentials" not in other.headers
    other.close()
    for origin in ({"Origin": "https://evil.example"}, {}):
        for path in ("/healthz", "/nope"):
            r = requests.get(srv.url + path, headers=origin, timeout=5)
            assert "Origin" in r.headers.get("vary", ""), (path, origin, r.headers)
    only_listed = make_server(env={"SSECAST_HTTP_CORS_ORIGINS": "https://app.example"}).start()
    r = requests.get(only_listed.url + "/healthz", headers={"Origin": "https://evil.example"},
                     timeout=5)
    assert "access-control-allow-origin" not in r.headers
    assert r.headers["vary"] == "Origin"


# --- finding 5: request smuggling ------------------------------------------------------------

SMUGGLED = b"GET /smuggled-marker HTTP/1.1\r\nHost: x\r\n\r\n"


@pytest.mark.parametrize("te", [b"xchunked", b"identity", b"gzip", b"chunked, identity",
                                b"identity, chunked, gzip"])
def test_transfer_encoding_not_ending_in_chunked_is_400_and_closes(server, te):
    req = (b"POST /publish HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " + PUBLISH_KEY.encode() +
           b"\r\nTransfer-Encoding: " + te + b"\r\n\r\n" + SMUGGLED)
    responses, closed = raw(server, req)
    assert [r[0] for r in responses] == [400], responses
    assert closed
    assert json.loads(responses[0][2])["error"] == "bad_request"


def test_http10_with_chunked_is_400_and_closes(server):
    req = (b"POST /publish HTTP/1.0\r\nHost: x\r\nAuthorization: Bearer " + PUBLISH_KEY.encode() +
           b"\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n" + SMUGGLED)
    responses, closed = raw(server, req)
    assert [r[0] for r in responses] == [400] and closed


def test_real_chunked_bodies_still_work(server):
    body = json.dumps({"topic": "t", "data": 1}).encode()
    req = (b"POST /publish HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " + PUBLISH_KEY.encode() +
           b"\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n" +
           f"{len(body):x}\r\n".encode() + body + b"\r\n0\r\n\r\n")
    responses, _ = raw(server, req)
    assert [r[0] for r in responses] == [200], responses


# --- finding 13: Host ------------------------------------------------------------------------


def test_missing_or_duplicate_host_is_400(server):
    for req in (b"GET /healthz HTTP/1.1\r\n\r\n",
                b"GET /healthz HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n",
                b"GET /healthz HTTP/1.0\r\nHost: a\r\nHost: b\r\n\r\n"):
        responses, closed = raw(server, req)
        assert [r[0] for r in responses] == [400], (req, responses)
        assert closed
    responses, _ = raw(server, b"GET /healthz HTTP/1.0\r\n\r\n")  # 1.0 may omit Host
    assert [r[0] for r in responses] == [200]


# --- finding 6: the demo key behind a same-host proxy -------------------------------------------


def test_demo_key_is_only_for_local_visitors_without_forwarding(make_server):
    srv = make_server(env={"SSECAST_AUTH_PUBLISH_KEYS": "", "SSECAST_AUTH_JWT_SECRET": "",
                           "SSECAST_HTTP_TRUSTED_PROXIES": "127.0.0.1/32"}).start()
    key = wait_until(lambda: _demo_key(srv.logs()), what="demo key in the log")
    assert key in requests.get(srv.url + "/", timeout=5).text
    for fwd in ({"X-Forwarded-For": "203.0.113.5"}, {"Forwarded": "for=203.0.113.5"},
                {"X-Real-IP": "203.0.113.5"}, {"X-Forwarded-For": "127.0.0.1"}):
        page = requests.get(srv.url + "/", headers=fwd, timeout=5).text
        assert key not in page, fwd
        assert 'id="key" value=""' in page


# --- issue 17: a first visit to /admin works (generated admin token, loopback only) -----------


def _admin_dir(tmp_path):
    d = tmp_path / "admin"
    (d / "assets").mkdir(parents=True)
    (d / "index.html").write_text("<!doctype html><html><head><title>a</title></head><body></body></html>")
    (d / "assets" / "app-1234.js").write_text("console.log(1)")
    return str(d)


def test_generated_admin_token_is_logged_works_and_is_prefilled_for_loopback_only(make_server,
                                                                                  tmp_path):
    srv = make_server(env={"SSECAST_AUTH_ADMIN_TOKEN": "", "SSECAST_AUTH_JWT_SECRET": "",
                           "SSECAST_HTTP_ADMIN_DIR": _admin_dir(tmp_path)}).start()
    marker = "admin token for this run is "
    logs = wait_until(lambda: marker in srv.logs() and srv.logs(), what="admin token in the log")
    token = logs[logs.find(marker) + len(marker):].split()[0]
    assert token.startswith("admin-") and len(token) >= 30
    assert srv.admin(token=token).status_code == 200
    assert srv.admin(token="admin-wrong").status_code == 401
    r = requests.get(srv.url + "/admin", timeout=5)
    assert f'<meta name="ssecast-admin-token" content="{token}">' in r.text
    assert r.headers["Cache-Control"] == "no-store"
    assert token not in requests.get(srv.url + "/admin/assets/app-1234.js", timeout=5).text
    for fwd in ({"X-Forwarded-For": "203.0.113.5"}, {"Forwarded": "for=203.0.113.5"},
                {"X-Real-IP": "203.0.113.5"}):
        page = requests.get(srv.url + "/admin", headers=fwd, timeout=5)
        assert token not in page.text and "ssecast-admin-token" not in page.text, fwd
        assert page.headers["Cache-Control"] == "no-cache"


def test_configured_admin_token_is_never_prefilled_or_replaced(make_server, tmp_path):
    srv = make_server(env={"SSECAST_AUTH_ADMIN_TOKEN": "configured-admin",
                           "SSECAST_HTTP_ADMIN_DIR": _admin_dir(tmp_path)}).start()
    page = requests.get(srv.url + "/admin", timeout=5)
    assert "ssecast-admin-token" not in page.text and "configured-admin" not in page.text
    assert "admin token for this run" not in srv.logs()
    assert srv.admin(token="configured-admin").status_code == 200
    # A JWT secret alone does not make a first visit work (an admin JWT must be minted
    # first): memory mode generates the token then too, and the admin JWT works beside it.
    srv2 = make_server(env={"SSECAST_AUTH_ADMIN_TOKEN": "",
                            "SSECAST_HTTP_ADMIN_DIR": _admin_dir(tmp_path / "2")}).start()
    assert "ssecast-admin-token" in requests.get(srv2.url + "/admin", timeout=5).text
    assert "admin token for this run" in srv2.logs()
    assert srv2.admin(token=make_token("ops", admin=True)).status_code == 200


def _demo_key(logs):
    marker = "demo publish key for this run is "
    at = logs.find(marker)
    return logs[at + len(marker):].split()[0] if at >= 0 else None


# --- finding 8: internal identities cannot be forged ----------------------------------------


@pytest.mark.parametrize("sub", ["publish-key:0", "anon:127.0.0.5", "anon:127.0.0.1"])
def test_reserved_subjects_are_401(make_server, sub):
    srv = make_server(env={"SSECAST_AUTH_ALLOW_ANONYMOUS": "true"}).start()
    token = make_token(sub=sub)
    r = requests.get(srv.url + "/events?topic=t", headers={"Authorization": f"Bearer {token}"},
                     timeout=5)
    assert r.status_code == 401
    r = srv.publish({"topic": "t", "data": 1}, key=make_token(sub=sub, publish=["*"]))
    assert r.status_code == 401


# --- finding 11: present but empty tokens ------------------------------------------------------


def test_present_but_empty_or_malformed_tokens_are_401_not_anonymous(make_server):
    srv = make_server(env={"SSECAST_AUTH_ALLOW_ANONYMOUS": "true"}).start()
    good = make_token(sub="bob")
    assert requests.get(srv.url + "/events?topic=t&access_token=" + good, timeout=5,
                        stream=True).status_code == 200
    for target, extra in (
            (b"/events?topic=t&access_token=&access_token=" + good.encode(), b""),
            (b"/events?topic=t&access_token=", b""),
            (b"/events?topic=t&access_token=" + good.encode() + b"&access_token=" + good.encode(),
             b""),
            (b"/events?topic=t", b"Authorization: Bearer\t" + good.encode() + b"\r\n"),
            (b"/events?topic=t", b"Authorization: Bearer\r\n"),
            (b"/events?topic=t", b"Cookie: ssecast_token=\r\n")):
        responses, _ = get(srv, target, extra)
        assert responses and responses[0][0] == 401, (target, extra, responses)


# --- finding 13: sse.max_topics and UTF-8 in error JSON ----------------------------------------


def test_max_topics_counts_distinct_topics(make_server):
    srv = make_server(env={"SSECAST_SSE_MAX_TOPICS": "2"}).start()
    s = srv.subscribe("a", "a", "a", "b", "b")
    assert s.status == 200
    s.close()
    responses, _ = get(srv, b"/events?topic=a&topic=b&topic=c")
    assert responses[0][0] == 400
    assert "sse.max_topics" in json.loads(responses[0][2])["message"]


def test_error_json_never_echoes_invalid_utf8(server):
    responses, _ = get(server, b"/events?topic=%ff%fe%C0%AF")
    status, _, body = responses[0]
    assert status == 400
    doc = json.loads(body.decode("utf-8"))  # strict: raises on invalid UTF-8
    assert doc["error"] == "bad_topic"
    assert "\ufffd" in doc["message"]
