# SPDX-License-Identifier: MIT
# One rate-limit suite, run against both backends (issue #4 §3): memory mode (one instance,
# MemoryRateLimiter) and redis mode (three instances behind round-robin, RedisRateLimiter).
# The same requests must get the same verdicts and headers from either.
import time

import pytest

from redis_support import auth

RULES = "publish:user_or_ip:4/60,sse:user_or_ip:2/60"


class Backend:
    """The servers of one mode; requests go round-robin over them."""

    def __init__(self, servers):
        self.servers = servers
        self._next = 0

    def pick(self):
        s = self.servers[self._next % len(self.servers)]
        self._next += 1
        return s


@pytest.fixture(params=["memory", "redis"])
def backend(request, make_server, make_cluster):
    if request.param == "memory":
        return Backend([make_server(env={"SSECAST_RATE_LIMIT": RULES}).start()])
    return Backend(make_cluster(env={"SSECAST_RATE_LIMIT": RULES}).servers)


def test_exactly_limit_accepted_then_429_with_headers(backend):
    statuses, remaining = [], []
    for i in range(7):
        r = backend.pick().publish({"topic": "rl", "data": i})
        statuses.append(r.status_code)
        remaining.append(int(r.headers["X-RateLimit-Remaining"]))
        assert r.headers["X-RateLimit-Limit"] == "4"
        assert r.headers["RateLimit-Policy"] == '"publish";q=4;w=60'
        reset = int(r.headers["X-RateLimit-Reset"])
        assert time.time() < reset <= time.time() + 62
        if r.status_code == 429:
            assert r.json()["error"] == "rate_limited"
            assert 1 <= int(r.headers["Retry-After"]) <= 60
            assert r.headers["RateLimit"].startswith('"publish";r=0;t=')
    assert statuses == [200] * 4 + [429] * 3
    assert remaining == [3, 2, 1, 0, 0, 0, 0]


def test_identifiers_are_counted_apart(backend):
    # Two users on the sse endpoint: each gets its own 2 streams, the third is refused.
    opened = []
    try:
        for user in ["alice", "bob"]:
            for _ in range(2):
                s = backend.pick().subscribe("t", headers=auth(user))
                opened.append(s)
                assert s.status == 200
            over = backend.pick().subscribe("t", headers=auth(user))
            opened.append(over)
            assert over.status == 429
            assert over.body()["error"] == "rate_limited"
    finally:
        for s in opened:
            s.close()


def test_refused_requests_are_not_counted(backend):
    for _ in range(4):
        assert backend.pick().publish({"topic": "rl", "data": 1}).status_code == 200
    for _ in range(5):
        r = backend.pick().publish({"topic": "rl", "data": 1})
        assert r.status_code == 429
    # Retry-After did not grow with the refusals: it still points at the first request.
    assert int(r.headers["Retry-After"]) >= 55
