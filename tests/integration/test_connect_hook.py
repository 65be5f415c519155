# SPDX-License-Identifier: MIT
# SPEC §Connect hook (auth.connect_url): a test application authorises subscribes with its
# own session cookie; allowed, refused, down, slow, garbage; answers cached briefly; the
# returned user and topics are enforced like JWT claims; expires_in ends the stream.
import json
import time

import pytest

from auth_support import FakeHttpServer, make_tls_files


SESSIONS = {
    "good": {"user": "u1", "topics": ["news", "orders/*"], "expires_in": 600},
    "short": {"user": "u2", "topics": ["news"], "expires_in": 2},
    "any": {"user": "u3"},
}


def app_handler(method, path, headers, body):
    req = json.loads(body)
    cookie = req.get("cookie", "")
    session = dict(p.strip().split("=", 1) for p in cookie.split(";") if "=" in p).get("session")
    if session == "forbidden":
        return 403, {"error": "nope"}
    if session == "garbage":
        return 200, "this is not json"
    if session == "reserved":
        return 200, {"user": "anon:1.2.3.4"}
    if session in SESSIONS:
        return 200, SESSIONS[session]
    return 401, {"error": "no session"}


@pytest.fixture
def app():
    s = FakeHttpServer(app_handler).start()
    yield s
    s.stop()


@pytest.fixture
def hub(make_server, app):
    return make_server(env={"SSECAST_AUTH_CONNECT_URL": app.url + "/sse-auth?v=1",
                            "SSECAST_AUTH_CONNECT_TIMEOUT_MS": "500",
                            "SSECAST_AUTH_CONNECT_CACHE_SECONDS": "2",
                            "SSECAST_AUTH_ALLOW_ANONYMOUS": "true"}).start()


def sub(hub, *topics, session=None, headers=None):
    h = dict(headers or {})
    if session:
        h["Cookie"] = f"theme=dark; session={session}"
    return hub.subscribe(*topics, headers=h)


def test_allowed_session_streams_as_the_hooks_user(hub, app):
    s = sub(hub, "news", "orders/*", session="good",
            headers={"Authorization": "Bearer app-token"})
    assert s.status == 200
    call = app.requests[-1]
    assert call["method"] == "POST" and call["path"] == "/sse-auth?v=1"
    sent = json.loads(call["body"])
    assert sent == {"cookie": "theme=dark; session=good", "authorization": "Bearer app-token",
                    "ip": "127.0.0.1", "topics": ["news", "orders/*"]}
    # The hook's user is the identity: targeting by users reaches it.
    hub.publish({"topic": "news", "data": "for u1", "users": ["u1"]})
    hub.publish({"topic": "news", "data": "for someone else", "users": ["u9"]})
    hub.publish({"topic": "orders/7", "data": "order"})
    assert [e["data"] for e in s.events(2)] == ["for u1", "order"]
    s.close()


def test_topics_the_hook_did_not_grant_are_403(hub):
    for topics in [("secret",), ("news", "secret"), ("orders",), ("*",)]:
        s = sub(hub, *topics, session="good")
        assert s.status == 403, topics
        assert s.body()["error"] == "forbidden"
        s.close()
    # No topics in the answer: any topic, like an absent subscribe claim.
    s = sub(hub, "anything/at/all", session="any")
    assert s.status == 200
    s.close()


def test_refusals_are_passed_on_and_nothing_falls_back_to_anonymous(hub):
    for session, code, error in [(None, 401, "unauthorized"), ("nosuch", 401, "unauthorized"),
                                 ("forbidden", 403, "forbidden")]:
        s = sub(hub, "news", session=session)
        assert s.status == code, session
        assert s.body()["error"] == error
        s.close()


@pytest.mark.parametrize("session", ["garbage", "reserved"])
def test_a_nonsense_answer_is_503_never_a_stream(hub, session):
    s = sub(hub, "news", session=session)
    assert s.status == 503
    assert s.body()["error"] == "auth_unavailable"
    s.close()


@pytest.mark.parametrize("mode", ["down", "slow"])
def test_a_hook_that_is_down_or_slow_is_503(hub, app, mode):
    app.mode, app.delay = mode, 3.0
    started = time.monotonic()
    s = sub(hub, "news", session="good")
    assert s.status == 503
    assert s.body()["error"] == "auth_unavailable"
    assert s.headers.get("retry-after") == "2"
    s.close()
    if mode == "slow":
        # Cut at connect_timeout_ms, not when the hook finally answers.
        assert time.monotonic() - started < 2.5
    # A failure is not cached: once the hook is back, the same session streams.
    app.mode = "normal"
    s = sub(hub, "news", session="good")
    assert s.status == 200
    s.close()
    assert hub.proc.poll() is None


def test_answers_are_cached_for_connect_cache_seconds(hub, app):
    before = app.count()
    for _ in range(3):
        s = sub(hub, "news", session="good")
        assert s.status == 200
        s.close()
    assert app.count() == before + 1
    # Other credentials or other topics are other questions.
    sub(hub, "orders/1", session="good").close()
    sub(hub, "news", session="any").close()
    assert app.count() == before + 3
    # Refusals are cached too (the hook is protected from a retry storm).
    for _ in range(2):
        sub(hub, "news", session="nosuch").close()
    assert app.count() == before + 4
    time.sleep(2.2)
    sub(hub, "news", session="good").close()
    assert app.count() == before + 5


def test_expires_in_ends_the_stream_like_exp(hub):
    s = sub(hub, "news", session="short")
    assert s.status == 200
    hub.publish({"topic": "news", "data": "in time"})
    assert s.next_event()["data"] == "in time"
    end = s.next_event(timeout=6)
    assert end == {"id": None, "event": "ssecast.token-expired", "data": "{}"}
    assert s.wait_closed(timeout=5)
    s.close()


def test_https_hook_with_a_verified_certificate(make_server, tmp_path):
    ca, cert, key = make_tls_files(tmp_path)
    app = FakeHttpServer(app_handler, tls=(cert, key)).start()
    try:
        hub = make_server(env={"SSECAST_AUTH_CONNECT_URL": app.url + "/sse-auth",
                               "SSECAST_AUTH_TLS_CA_FILE": ca}).start()
        s = sub(hub, "news", session="good")
        assert s.status == 200
        s.close()
        # An untrusted certificate is a hook that cannot be asked: 503, never a stream.
        untrusted = make_server(env={"SSECAST_AUTH_CONNECT_URL": app.url + "/sse-auth"}).start()
        s = sub(untrusted, "news", session="good")
        assert s.status == 503
        s.close()
    finally:
        app.stop()


def test_an_https_hook_that_never_finishes_the_handshake_is_503_in_time(make_server, tmp_path):
    import socket
    ca, _, _ = make_tls_files(tmp_path)
    silent = socket.socket()
    silent.bind(("127.0.0.1", 0))
    silent.listen(16)  # the kernel accepts; nobody ever speaks TLS
    try:
        port = silent.getsockname()[1]
        hub = make_server(env={"SSECAST_AUTH_CONNECT_URL": f"https://127.0.0.1:{port}/x",
                               "SSECAST_AUTH_CONNECT_TIMEOUT_MS": "500",
                               "SSECAST_AUTH_TLS_CA_FILE": ca}).start()
        started = time.monotonic()
        s = sub(hub, "news", session="good")
        assert s.status == 503
        s.close()
        assert time.monotonic() - started < 3  # the deadline covers the handshake
    finally:
        silent.close()
