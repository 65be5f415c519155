# SPDX-License-Identifier: MIT
# GET /events: headers, retry line, topics and prefixes, identities, errors, CORS, users.
import time

import jwt
import requests

from conftest import make_token, JWT_SECRET, SSEStream




def test_stream_headers_and_retry_line(server):
    s = server.subscribe("t")
    assert s.status == 200
    assert s.headers["content-type"] == "text/event-stream; charset=utf-8"
    assert s.headers["cache-control"] == "no-cache, no-store"
    assert s.headers["x-accel-buffering"] == "no"
    server.publish({"topic": "t", "data": "x"})
    s.next_event()
    assert s.retry == 3000
    s.close()


def test_exact_and_prefix_topics(server):
    exact = server.subscribe("orders")
    prefix = server.subscribe("orders/*")
    both = server.subscribe("orders", "orders/*")
    for topic in ["orders", "orders/1", "orders/eu/2", "ordersX", "other"]:
        assert server.publish({"topic": topic, "data": topic}).status_code == 200
    assert exact.next_event()["data"] == "orders"
    assert [e["data"] for e in prefix.events(2)] == ["orders/1", "orders/eu/2"]
    assert [e["data"] for e in both.events(3)] == ["orders", "orders/1", "orders/eu/2"]
    # An event on two matching topics arrives once.
    server.publish({"topics": ["orders", "orders/9"], "data": "two"})
    assert both.next_event()["data"] == "two"
    server.publish({"topic": "orders", "data": "after"})
    assert both.next_event()["data"] == "after"
    for s in (exact, prefix, both):
        s.close()


def test_bad_topics_are_400_with_json(server):
    for query in ["", "topic=", "topic=a%20b", "topic=a/*/b", "topic=" + "x" * 201]:
        r = requests.get(server.url + "/events?" + query, timeout=5)
        assert r.status_code == 400, query
        assert r.json()["error"] == "bad_topic"
        assert r.json()["message"]


def test_anonymous_identity_and_users_targeting(server):
    anon = server.subscribe("t")
    bob = server.subscribe("t", headers={"Authorization": "Bearer " + make_token("bob")})
    assert anon.status == 200 and bob.status == 200
    server.publish({"topic": "t", "data": "for-bob", "users": ["bob"]})
    server.publish({"topic": "t", "data": "for-anon", "users": ["anon:127.0.0.1"]})
    server.publish({"topic": "t", "data": "all"})
    assert [e["data"] for e in bob.events(2)] == ["for-bob", "all"]
    assert [e["data"] for e in anon.events(2)] == ["for-anon", "all"]
    anon.close()
    bob.close()


def test_token_sources_header_query_cookie(server):
    t = make_token("carol")
    for kw in [{"headers": {"Authorization": "Bearer " + t}},
               {"query": "access_token=" + t},
               {"headers": {"Cookie": "x=1; ssecast_token=" + t}}]:
        s = server.subscribe("t", **kw)
        assert s.status == 200
        server.publish({"topic": "t", "data": "hi", "users": ["carol"]})
        assert s.next_event()["data"] == "hi"
        s.close()


def test_bad_tokens_are_401(server):
    expired = jwt.encode({"sub": "a", "exp": int(time.time()) - 10}, JWT_SECRET, algorithm="HS256")
    wrong = jwt.encode({"sub": "a"}, "another-secret-of-enough-length!", algorithm="HS256")
    none_alg = jwt.encode({"sub": "a"}, None, algorithm="none")
    hs512 = jwt.encode({"sub": "a"}, JWT_SECRET, algorithm="HS512")
    for bad in [expired, wrong, none_alg, hs512, "garbage", "a.b.c", "x" * 9000]:
        s = SSEStream(server, ["t"], headers={"Authorization": "Bearer " + bad})
        assert s.status == 401, bad[:40]
        assert s.body()["error"] == "unauthorized"
        s.close()
    # A header past http.max_header_bytes is refused before any parsing.
    s = SSEStream(server, ["t"], headers={"Authorization": "Bearer " + "x" * 100_000})
    assert s.status == 431
    assert s.body()["error"] == "header_too_large"
    s.close()


def test_subscribe_claim_gives_403(server):
    t = make_token("dave", subscribe=["orders/*"])
    ok = server.subscribe("orders/1", headers={"Authorization": "Bearer " + t})
    assert ok.status == 200
    ok.close()
    for topic in ["users", "orders", "*"]:
        s = server.subscribe(topic, headers={"Authorization": "Bearer " + t})
        assert s.status == 403
        assert s.body()["error"] == "forbidden"
        s.close()


def test_anonymous_refused_when_disabled(make_server):
    srv = make_server(env={"SSECAST_AUTH_ALLOW_ANONYMOUS": "false"}).start()
    s = srv.subscribe("t")
    assert s.status == 401
    s.close()


def test_heartbeat_comments(make_server):
    srv = make_server(env={"SSECAST_SSE_HEARTBEAT_SECONDS": "1"}).start()
    s = srv.subscribe("t")
    s.wait_comments(2, timeout=5)  # heartbeat every 1 s
    srv.publish({"topic": "t", "data": "x"})
    s.next_event()
    assert s.comments >= 2
    s.close()


def test_cors_for_allowed_origin_only(make_server):
    srv = make_server(env={"SSECAST_HTTP_CORS_ORIGINS": "http://app.example"}).start()
    s = srv.subscribe("t", headers={"Origin": "http://app.example"})
    assert s.headers["access-control-allow-origin"] == "http://app.example"
    s.close()
    foreign = srv.subscribe("t", headers={"Origin": "http://evil.example"})
    assert "access-control-allow-origin" not in foreign.headers
    foreign.close()
    pre = requests.options(srv.url + "/publish", headers={
        "Origin": "http://app.example", "Access-Control-Request-Method": "POST"}, timeout=5)
    assert pre.status_code == 204
    assert "POST" in pre.headers["access-control-allow-methods"]
    assert "Authorization" in pre.headers["access-control-allow-headers"]
