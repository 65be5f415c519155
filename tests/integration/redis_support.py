# SPDX-License-Identifier: MIT
# Shared helpers for the redis-mode tests (test_redis_*.py): JWT minting and "exactly once"
# checks. The Cluster class and its fixtures (cluster, pair, make_cluster) are in conftest.py.
import socket
import time

from conftest import make_token

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


MASK64 = (1 << 64) - 1


def shard_of(topic: str, shards: int) -> int:
    """The shard a topic lives on with `shards` shards, as docs/redis.md §Shards documents
    it: 64-bit FNV-1a of the name up to its first '/', then jump consistent hash."""
    h = 14695981039346656037
    for b in topic.split("/", 1)[0].encode():
        h = ((h ^ b) * 1099511628211) & MASK64
    b, j = -1, 0
    while j < shards:
        b = j
        h = (h * 2862933555777941757 + 1) & MASK64
        j = int((b + 1) * (float(1 << 31) / float((h >> 33) + 1)))
    return b


def topic_on(shard: int, shards: int, base="t") -> str:
    """A topic name that lives on `shard`."""
    i = 0
    while shard_of(f"{base}{i}", shards) != shard:
        i += 1
    return f"{base}{i}"
