# SPDX-License-Identifier: MIT
# SPEC §Resume under load (#12 findings 2, 7, 10): a backlog far larger than
# limits.max_queue_bytes is paged out as the socket takes it, live events that arrive
# meanwhile follow with no gap and no duplicate, an id from the future gets history-lost
# and then every live event, and one resume pulls from Redis only what it may deliver.
import re
import threading
import time

import pytest
import requests

from conftest import PUBLISH_KEY, SSEStream, wait_until
from redis_support import assert_no_more_events, auth

QUEUE = 64 * 1024
PAYLOAD = "p" * 900
BIG = "s" * 8000


def kernel_send_buffer_max():
    with open("/proc/sys/net/ipv4/tcp_wmem") as f:
        return int(f.read().split()[2])


# Over 10 × QUEUE, and half as much again as the kernel's largest send buffer (4 MB here),
# so that the replay is still going on when live events arrive.
BACKLOG = max(10 * QUEUE, kernel_send_buffer_max() * 3 // 2) // len(BIG) + 1


def publish_many(srv, topic, n, tag, payload=PAYLOAD):
    session = requests.Session()
    ids = []
    for i in range(n):
        r = session.post(srv.url + "/publish", json={"topic": topic, "data": f"{tag}{i}:{payload}"},
                         headers={"Authorization": f"Bearer {PUBLISH_KEY}"}, timeout=10)
        assert r.status_code == 200, r.text
        ids.append(r.json()["id"])
    return ids


def key(event_id):
    return tuple(int(x) for x in event_id.split("-"))


def read_ids(stream, n, timeout=20):
    got = []
    for _ in range(n):
        e = stream.next_event(timeout=timeout)
        assert e["event"] != "ssecast.history-lost", "backlog within history reported lost"
        got.append(e["id"])
    return got


def check_backlog_then_live(srv, headers=None):
    """Resume behind 10 × max_queue_bytes: every event in order, live events published while
    the replay is still going (more than the held-live budget) follow without gap or
    duplicate, then live."""
    first = publish_many(srv, "t", 1, "before")[0]
    backlog = publish_many(srv, "t", BACKLOG, "b", payload=BIG)
    s = SSEStream(srv, ["t"], headers={"Last-Event-ID": first, **(headers or {})}, rcvbuf=8192)
    assert s.status == 200
    got = read_ids(s, 5)
    # ~110 KB, over the held-live budget (QUEUE / 2), while the replay waits for the reader.
    live = publish_many(srv, "t", 120, "l")
    got += read_ids(s, BACKLOG + len(live) - 5)
    assert got == backlog + live
    last = publish_many(srv, "t", 1, "end")
    assert s.next_event()["id"] == last[0]
    assert srv.metric("ssecast_events_dropped_total") == 0
    assert "closed slow stream" not in srv.logs()
    s.close()


def test_memory_resume_behind_ten_queues_of_backlog_gets_everything_then_live(make_server):
    srv = make_server(env={"SSECAST_LIMITS_MAX_QUEUE_BYTES": str(QUEUE)}).start()
    check_backlog_then_live(srv)


@pytest.mark.timeout(120)
def test_redis_resume_behind_ten_queues_of_backlog_gets_everything_then_live(make_cluster):
    c = make_cluster(n=1, env={"SSECAST_LIMITS_MAX_QUEUE_BYTES": str(QUEUE)})
    check_backlog_then_live(c.servers[0], headers=auth("alice"))


@pytest.mark.timeout(120)
def test_resuming_client_that_never_reads_is_cut_while_a_reader_completes(make_server):
    srv = make_server(env={"SSECAST_LIMITS_MAX_QUEUE_BYTES": str(QUEUE),
                           "SSECAST_SSE_HEARTBEAT_SECONDS": "1"}).start()
    first = publish_many(srv, "t", 1, "before")[0]
    backlog = publish_many(srv, "t", BACKLOG, "b", payload=BIG)
    stalled = SSEStream(srv, ["t"], headers={"Last-Event-ID": first}, rcvbuf=4096)
    reader = SSEStream(srv, ["t"], headers={"Last-Event-ID": first})
    assert read_ids(reader, len(backlog)) == backlog
    # The stalled one is cut by the sweep (no byte taken for 30 s), not kept forever.
    wait_until(lambda: srv.metric("ssecast_events_dropped_total") >= 1, timeout=60,
               what="the never-reading resumer cut")
    stalled.sock.setblocking(True)
    assert stalled.wait_closed(timeout=10)
    live = publish_many(srv, "t", 1, "live")
    assert reader.next_event()["id"] == live[0]
    reader.close()


def future_ids():
    now_ms = int(time.time() * 1000)
    return [f"{now_ms + 3600 * 1000}-0", "18446744073709551615-18446744073709551615",
            "18446744073709551615"]


def check_future_id(srv, headers=None):
    publish_many(srv, "t", 3, "old", payload="x")
    for future in future_ids():
        s = srv.subscribe("t", headers={"Last-Event-ID": future, **(headers or {})})
        assert s.status == 200
        lost = s.next_event()
        assert lost["event"] == "ssecast.history-lost"
        assert lost["data"] == '{"lastEventId":"%s"}' % future
        live = publish_many(srv, "t", 3, "new", payload="x")
        assert [e["id"] for e in s.events(3)] == live
        s.close()


@pytest.mark.timeout(60)
def test_memory_id_from_the_future_gets_history_lost_then_every_live_event(server):
    check_future_id(server)


@pytest.mark.timeout(60)  # without the fix heartbeats keep next_event() waiting
def test_redis_id_from_the_future_gets_history_lost_then_every_live_event(make_cluster):
    c = make_cluster(n=1)
    check_future_id(c.servers[0], headers=auth("alice"))


def redis_output_bytes(redis):
    info = redis.cli("INFO", "stats")
    return int(re.search(r"total_net_output_bytes:(\d+)", info).group(1))


@pytest.mark.timeout(120)
def test_redis_resume_of_an_unrelated_topic_pulls_little_from_redis(make_cluster):
    c = make_cluster(n=1)
    srv = c.servers[0]
    first = publish_many(srv, "quiet", 1, "q")[0]
    publish_many(srv, "busy", 2000, "b", payload="z" * 1000)  # ~2 MB of history
    wanted = publish_many(srv, "quiet", 1, "q", payload="x")[0]
    before = redis_output_bytes(c.redis)
    s = srv.subscribe("quiet", headers={"Last-Event-ID": first, **auth("alice")})
    assert s.next_event()["id"] == wanted
    assert_no_more_events(s, wait=0.3)
    pulled = redis_output_bytes(c.redis) - before
    s.close()
    # The whole history would be > 2 MB; the pre-filtered pages carry ids only.
    assert pulled < 100_000, f"one resume pulled {pulled} bytes from Redis"
