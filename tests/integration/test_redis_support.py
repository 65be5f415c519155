# SPDX-License-Identifier: MIT
# Shared helpers for the redis-mode tests (test_redis_*.py): a 3-instance cluster on one
# real redis-server, JWT minting, and "exactly once" checks. Holds no tests itself.
import socket
import time

import pytest
import requests

from conftest import make_token, RedisServer, Server, wait_until

PREFIX = "ssecast:"


def token(sub: str) -> str:
    """An HS256 JWT for user `sub` (redis mode refuses anonymous subscribers)."""
    return make_token(sub)


def auth(sub: str) -> dict:
    return {"Authorization": f"Bearer {token(sub)}"}


def assert_no_more_events(stream, wait=0.7):
    """Nothing but heartbeat comments for `wait` seconds: the exactly-once half of a check.
    (next_event() cannot be used: every heartbeat restarts its socket timeout.)"""
    deadline = time.monotonic() + wait
    while (left := deadline - time.monotonic()) > 0:
        stream.sock.settimeout(left)
        try:
            stream._read_more()
        except (socket.timeout, TimeoutError):
            break
    *complete, rest = stream.buf.split(b"\n")
    for line in complete:
        if line.startswith(b":"):
            stream.comments += 1
        elif line.strip():
            raise AssertionError(f"unexpected extra event data {stream.buf!r}")
    stream.buf = rest


class Cluster:
    """One redis-server and `n` ssecast instances (ids i0, i1, ...) sharing it."""

    def __init__(self, n=3, env=None):
        self.redis = RedisServer().start()
        self.env = dict(env or {})
        self.servers = [self.make(i) for i in range(n)]

    def make(self, i):
        env = {"SSECAST_REDIS_URL": self.redis.url, "SSECAST_REDIS_INSTANCE_ID": f"i{i}",
               "SSECAST_SSE_HEARTBEAT_SECONDS": "1", "SSECAST_HTTP_THREADS": "2"}
        env.update(self.env)
        return Server(env=env).start()

    def wait_ready(self, timeout=15):
        for s in self.servers:
            wait_until(lambda: requests.get(s.url + "/readyz", timeout=1).status_code == 200,
                       timeout=timeout, what=f"{s.url} ready")

    def monitor(self, i=0):
        r = self.servers[i].admin()
        assert r.status_code == 200, r.text
        return r.json()

    def stop(self):
        """Stops everything; fails when an instance that served exited uncleanly."""
        failures = []
        for s in self.servers:
            try:
                s.stop_clean()
            except AssertionError as e:
                failures.append(str(e))
        self.redis.stop()
        assert not failures, "\n".join(failures)


@pytest.fixture
def cluster():
    c = Cluster()
    c.wait_ready()
    yield c
    c.stop()


@pytest.fixture
def pair():
    """Two instances on one Redis."""
    c = Cluster(n=2)
    c.wait_ready()
    yield c
    c.stop()
