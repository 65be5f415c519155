# SPDX-License-Identifier: MIT
# SPEC §Rate limiting against the real binary in memory mode: exact counts, headers on 200
# and 429, client identity behind (un)trusted proxies, /metrics, max_connections_per_user.
import re
import threading
import time
from pathlib import Path

import pytest
import requests

from conftest import CheckedThread, make_token, SSEStream, wait_until

LIMITS = "sse:user_or_ip:3/60,publish:user_or_ip:5/60"






@pytest.fixture
def limited(make_server):
    return make_server(env={"SSECAST_RATE_LIMIT": LIMITS}).start()




def open_streams(server, n, **kw):
    streams = [server.subscribe("demo", **kw) for _ in range(n)]
    return streams


def close_all(streams):
    for s in streams:
        s.close()


def test_sse_accepts_exactly_limit_with_headers(limited):
    before = time.time()
    streams = open_streams(limited, 3)
    try:
        assert [s.status for s in streams] == [200, 200, 200]
        assert [s.headers["x-ratelimit-remaining"] for s in streams] == ["2", "1", "0"]
        first = streams[0].headers
        assert first["x-ratelimit-limit"] == "3"
        assert first["ratelimit-policy"] == '"sse";q=3;w=60'
        assert first["ratelimit"] == '"sse";r=2;t=60'
        assert "retry-after" not in first
        assert before + 59 <= int(first["x-ratelimit-reset"]) <= time.time() + 61

        refused = limited.subscribe("demo")
        assert refused.status == 429
        assert refused.headers["content-type"].startswith("application/json")
        assert refused.body()["error"] == "rate_limited"
        assert refused.headers["x-ratelimit-remaining"] == "0"
        assert refused.headers["ratelimit-policy"] == '"sse";q=3;w=60'
        assert 1 <= int(refused.headers["retry-after"]) <= 60
        assert re.fullmatch(r'"sse";r=0;t=\d+', refused.headers["ratelimit"])
        refused.close()
    finally:
        close_all(streams)
    # A refused request is not counted, and closing streams gives no budget back.
    again = limited.subscribe("demo")
    assert again.status == 429
    again.close()
    assert limited.metric("ssecast_rate_limit_requests_total", endpoint="sse", outcome="allowed") == 3
    assert limited.metric("ssecast_rate_limit_requests_total", endpoint="sse", outcome="limited") == 2


def test_publish_accepts_exactly_limit(limited):
    codes = []
    last = None
    for i in range(8):
        last = limited.publish({"topic": "demo", "data": {"n": i}})
        codes.append(last.status_code)
    assert codes == [200] * 5 + [429] * 3
    assert last.json()["error"] == "rate_limited"
    assert last.headers["RateLimit-Policy"] == '"publish";q=5;w=60'
    assert last.headers["X-RateLimit-Remaining"] == "0"
    assert 1 <= int(last.headers["Retry-After"]) <= 60
    assert limited.metric("ssecast_rate_limit_requests_total", endpoint="publish", outcome="allowed") == 5
    assert limited.metric("ssecast_rate_limit_requests_total", endpoint="publish", outcome="limited") == 3


def test_publish_success_carries_headers(limited):
    r = limited.publish({"topic": "demo", "data": 1})
    assert r.status_code == 200
    assert r.headers["X-RateLimit-Limit"] == "5"
    assert r.headers["X-RateLimit-Remaining"] == "4"
    assert r.headers["RateLimit"] == '"publish";r=4;t=60'
    # Unlimited endpoints carry no rate-limit headers.
    assert "X-RateLimit-Limit" not in requests.get(limited.url + "/healthz", timeout=5).headers


def test_authenticated_users_have_their_own_budget(limited):
    alice = {"Authorization": f"Bearer {make_token('alice')}"}
    streams = open_streams(limited, 3, headers=alice)
    try:
        assert [s.status for s in streams] == [200, 200, 200]
        extra = limited.subscribe("demo", headers=alice)
        assert extra.status == 429
        extra.close()
        anon = limited.subscribe("demo")  # same IP, anonymous: keyed by IP, not by alice
        assert anon.status == 200
        anon.close()
    finally:
        close_all(streams)


def test_forwarded_headers_from_untrusted_peer_are_ignored(limited):
    spoofed = []
    try:
        for i in range(6):
            spoofed.append(limited.subscribe("demo", headers={
                "X-Forwarded-For": f"203.0.113.{i}", "Forwarded": f"for=198.51.100.{i}"}))
        assert [s.status for s in spoofed] == [200, 200, 200, 429, 429, 429]
    finally:
        close_all(spoofed)


def test_trusted_proxy_forwarded_for_is_the_identity(make_server):
    s = make_server(env={"SSECAST_RATE_LIMIT": LIMITS,
                         "SSECAST_HTTP_TRUSTED_PROXIES": "127.0.0.1/32"}).start()
    streams = []
    try:
        a = {"X-Forwarded-For": "203.0.113.7"}
        streams = open_streams(s, 4, headers=a)
        assert [x.status for x in streams] == [200, 200, 200, 429]
        b = s.subscribe("demo", headers={"X-Forwarded-For": "203.0.113.8"})
        streams.append(b)
        assert b.status == 200
        # The proxy itself (no XFF) is one more client with its own budget.
        direct = s.subscribe("demo")
        streams.append(direct)
        assert direct.status == 200
    finally:
        close_all(streams)


def test_several_rules_headers_follow_the_closest_to_refusal(make_server):
    s = make_server(env={"SSECAST_RATE_LIMIT": "publish:ip:10/60,publish:user_or_ip:2/3600"}
                    ).start()
    r1 = s.publish({"topic": "demo", "data": 1})
    assert r1.headers["RateLimit-Policy"] == '"publish";q=2;w=3600'
    assert r1.headers["RateLimit"] == '"publish";r=1;t=3600'
    assert s.publish({"topic": "demo", "data": 2}).status_code == 200
    r3 = s.publish({"topic": "demo", "data": 3})
    assert r3.status_code == 429
    assert r3.headers["X-RateLimit-Limit"] == "2"
    assert 3590 <= int(r3.headers["Retry-After"]) <= 3600


def test_toml_config_file(make_server, tmp_path):
    cfg = tmp_path / "ssecast.toml"
    cfg.write_text('[[rate_limit]]\nendpoint = "sse"\nidentifier = "ip"\nlimit = 1\n'
                   'window = 30\n')
    s = make_server(args=["--config", str(cfg)]).start()
    first = s.subscribe("demo")
    second = s.subscribe("demo")
    try:
        assert (first.status, second.status) == (200, 429)
        assert first.headers["ratelimit-policy"] == '"sse";q=1;w=30'
    finally:
        first.close()
        second.close()


def test_max_connections_per_user(make_server):
    s = make_server(env={"SSECAST_LIMITS_MAX_CONNECTIONS_PER_USER": "2"}).start()
    bob = {"Authorization": f"Bearer {make_token('bob')}"}
    streams = open_streams(s, 2, headers=bob)
    try:
        assert [x.status for x in streams] == [200, 200]
        third = s.subscribe("demo", headers=bob)
        assert third.status == 429
        assert third.body()["error"] == "too_many_connections"
        assert int(third.headers["retry-after"]) >= 1
        third.close()
        other = s.subscribe("demo", headers={"Authorization": f"Bearer {make_token('carol')}"})
        streams.append(other)
        assert other.status == 200

        streams.pop(0).close()  # the server sees the close and the registry forgets it

        def reopen():
            x = s.subscribe("demo", headers=bob)
            if x.status == 200:
                return x
            x.close()
            return None

        streams.append(wait_until(reopen, timeout=10, interval=0.1, what="a free slot"))
        fourth = s.subscribe("demo", headers=bob)
        assert fourth.status == 429
        fourth.close()
    finally:
        close_all(streams)


def test_max_connections_per_user_under_concurrent_opens(make_server):
    """Many simultaneous opens for one user must never get more than the limit in.
    start_stream checks and counts in one registry step (try_connect), so two shards cannot
    both pass the check."""
    s = make_server(env={"SSECAST_LIMITS_MAX_CONNECTIONS_PER_USER": "2",
                         "SSECAST_HTTP_THREADS": "2"}).start()
    bob = {"Authorization": f"Bearer {make_token('bob')}"}
    results, lock = [], threading.Lock()
    barrier = threading.Barrier(16)

    def opener():
        barrier.wait()
        st = SSEStream(s, ["demo"], headers=bob)
        with lock:
            results.append(st)

    threads = [CheckedThread(opener) for _ in range(16)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    try:
        accepted = sum(1 for st in results if st.status == 200)
        assert accepted == 2
    finally:
        close_all(results)


# --- The Redis mirror (src/redis/lua/sliding_window.lua), run directly in redis-server ---
LUA = (Path(__file__).resolve().parents[2] / "src" / "redis" / "lua" / "sliding_window.lua"
       ).read_text()


def run_lua(redis, member, rules):
    """rules: [(key, limit, window_seconds)] -> (allowed, [(allowed, remaining, reset, retry)])"""
    args = ["EVAL", LUA, str(len(rules)), *[k for k, _, _ in rules], member]
    for _, limit, window in rules:
        args += [str(limit), str(window * 1_000_000)]
    out = [int(x) for x in redis.cli(*args).split()]
    per = [tuple(out[1 + 4 * i: 5 + 4 * i]) for i in range(len(rules))]
    return out[0] == 1, per


def test_lua_script_accepts_exactly_limit_and_counts_only_accepted(redis_server):
    rules = [("rl:0:ip:a", 3, 60)]
    results = [run_lua(redis_server, f"m{i}", rules) for i in range(6)]
    assert [a for a, _ in results] == [True, True, True, False, False, False]
    assert [r[1][0][1] for r in results[:3]] == [2, 1, 0]
    first = results[0][1][0]
    assert 59_000_000 < first[2] <= 60_000_000 and first[3] == 0  # reset ~ window, no retry
    refused = results[3][1][0]
    assert refused[0] == 0 and refused[1] == 0 and 0 < refused[3] <= 60_000_000
    assert redis_server.cli("ZCARD", "rl:0:ip:a") == "3"  # refused ones are not stored
    assert 0 < int(redis_server.cli("PTTL", "rl:0:ip:a")) <= 61_000


def test_lua_script_applies_all_rules_or_none(redis_server):
    short, long = ("rl:0:u:x", 2, 10), ("rl:1:u:x", 5, 3600)
    outcomes = [run_lua(redis_server, f"m{i}", [short, long])[0] for i in range(4)]
    assert outcomes == [True, True, False, False]
    assert redis_server.cli("ZCARD", "rl:0:u:x") == "2"
    assert redis_server.cli("ZCARD", "rl:1:u:x") == "2"  # the refused two left no trace
