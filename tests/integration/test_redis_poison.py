# SPDX-License-Identifier: MIT
# What anyone with access to Redis can write (the events channel, the stream, the last-id key,
# the ingest list) cannot wedge publishing, lose an ingest item, hide a broken publish path
# from /readyz, or get past the publish body rules (issue #12, findings 3 and 9).
import json
import socket
import time

import pytest
import requests

from conftest import wait_until
from redis_support import PREFIX, assert_no_more_events, auth

POISON_IDS = [
    "18446744073709551615-18446744073709551615",  # the probe's repro
    "18446744073709551615-0",
    "99999999999999999999-1",  # over uint64
    "1-9007199254740992",  # seq past what Lua numbers keep exactly
    None,  # filled in: a day ahead of now
    "1-2-3",
    "abc",
]


def now_ms():
    return int(time.time() * 1000)


def id_ms(text):
    return int(text.split("-")[0])


def resp(port, *args):
    """One command over a raw RESP socket (redis-cli cannot pass a megabyte argument)."""
    out = b"*%d\r\n" % len(args)
    for a in args:
        a = a.encode() if isinstance(a, str) else a
        out += b"$%d\r\n%s\r\n" % (len(a), a)
    with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
        s.sendall(out)
        reply = s.recv(4096)
    assert not reply.startswith(b"-"), reply
    return reply


def ready(server):
    return requests.get(server.url + "/readyz", timeout=2).status_code


@pytest.fixture
def one(make_cluster):
    return make_cluster(n=1)


def test_a_poisoned_id_on_the_events_channel_does_not_wedge_publishing(make_cluster):
    c = make_cluster(n=2)
    streams = [s.subscribe("p", headers=auth(f"u{i}")) for i, s in enumerate(c.servers)]
    body = json.dumps({"type": "poison", "topics": ["p"], "users": [], "data": "x",
                       "ts": now_ms()})
    for bad in POISON_IDS:
        bad = bad or f"{now_ms() + 86_400_000}-0"
        assert c.redis.cli("PUBLISH", PREFIX + "events:p", f"{bad} {body}") == "2"
    # Every instance has seen every bad message before the first publish below.
    for s in c.servers:
        wait_until(lambda: s.metric("ssecast_redis_ids_refused_total") >= len(POISON_IDS),
                   timeout=5, what="poisoned ids counted")
    ids = []
    for i, s in enumerate(c.servers):
        r = s.publish({"topic": "p", "type": "real", "data": i})
        assert r.status_code == 200, r.text
        ids.append(r.json()["id"])
        assert abs(id_ms(ids[-1]) - now_ms()) < 60_000, ids[-1]  # the floor stayed sane
    for st in streams:
        got = st.events(2)
        assert [(e["event"], e["id"]) for e in got] == [("real", ids[0]), ("real", ids[1])]
        assert_no_more_events(st)
        st.close()
    for s in c.servers:
        assert ready(s) == 200
        assert "ignoring an event id from a topic channel" in s.logs()


def test_a_poisoned_last_id_key_is_ignored_and_overwritten(one):
    s, r = one.servers[0], one.redis
    key = PREFIX + "stream:last-id"
    for poison in (["SET", key, "18446744073709551615-18446744073709551615"],
                   ["SET", key, f"{now_ms() + 86_400_000}-0"],
                   ["RPUSH", key, "not-a-string"]):
        r.cli("DEL", key)
        r.cli(*poison)
        res = s.publish({"topic": "k", "data": 1})
        assert res.status_code == 200, (poison, res.text)
        assert abs(id_ms(res.json()["id"]) - now_ms()) < 60_000
        assert r.cli("GET", key) == res.json()["id"]  # repaired by the publish itself
    assert s.metric("ssecast_redis_ids_refused_total") == 3
    assert ready(s) == 200


@pytest.mark.parametrize("shape", ["wrong type", "top id 2^64-1", "top id a day ahead"])
def test_a_stream_that_cannot_take_events_is_not_ready_and_loses_no_ingest_item(one, shape):
    s, r = one.servers[0], one.redis
    stream = PREFIX + "topic:q"
    sub = s.subscribe("q", headers=auth("q"))
    assert s.publish({"topic": "q", "data": "before"}).status_code == 200
    assert sub.next_event()["data"] == "before"
    if shape == "wrong type":
        r.cli("DEL", stream)
        r.cli("SET", stream, "x")
    elif shape == "top id 2^64-1":
        r.cli("XADD", stream, "18446744073709551615-18446744073709551615", "e", "{}")
    else:
        r.cli("XADD", stream, f"{now_ms() + 86_400_000}-0", "e", "{}")
    res = s.publish({"topic": "q", "data": "refused"})
    assert res.status_code == 503, res.text
    wait_until(lambda: ready(s) == 503, timeout=5, what="/readyz 503")
    assert s.metric("ssecast_redis_publish_ok") == 0
    # An ingest item taken meanwhile stays in a list: the script writes nothing on failure.
    item = json.dumps({"topic": "q", "data": "kept"})
    r.cli("RPUSH", PREFIX + "ingest", item)
    time.sleep(1.5)
    left = r.cli("LRANGE", PREFIX + "ingest", "0", "-1").splitlines() + \
        r.cli("LRANGE", PREFIX + "ingest:processing:i0", "0", "-1").splitlines()
    assert left == [item]
    assert ready(s) == 503  # still: the checks keep failing
    assert "SSECAST_STREAM" in s.logs()
    # The operator removes the bad key: everything resumes without a restart.
    r.cli("DEL", stream)
    wait_until(lambda: ready(s) == 200, timeout=10, what="/readyz 200 again")
    assert sub.next_event()["data"] == "kept"
    assert s.publish({"topic": "q", "data": "after"}).status_code == 200
    assert sub.next_event()["data"] == "after"
    assert_no_more_events(sub)
    sub.close()
    assert r.cli("LLEN", PREFIX + "ingest:processing:i0") == "0"


# Bodies POST /publish refuses; the ingest list must refuse each of them too (the issue #12
# drift: control characters in `type`, unknown fields, `id`, the events-per-body cap).
REFUSED_BODIES = [
    '{"topic":"ing","type":"a\\u001b[31m","data":1}',  # ESC
    '{"topic":"ing","type":"a\\u0085b","data":1}',  # C1
    '{"topic":"ing","type":"a\\u007f","data":1}',  # DEL
    '{"topic":"ing","data":1,"extra":2}',  # unknown field
    '{"topic":"ing","id":"99999999999999-0","data":1}',  # an id
    json.dumps([{"topic": "ing", "data": i} for i in range(1001)]),  # over 1000 events
    json.dumps({"topic": "ing", "data": "x" * 70_000}),  # over max_event_bytes
    '{"topic":"ing","data":1e400}',  # not JSON once it is Infinity
    '{"topic":"ing","data":123456789012345678901234567890}',  # loses digits
]


def test_the_ingest_list_refuses_what_post_publish_refuses(one):
    s, r = one.servers[0], one.redis
    sub = s.subscribe("ing", headers=auth("ing"))
    bad = list(REFUSED_BODIES)
    for body in bad:  # the same validator on both paths
        assert s.publish(None, raw=body).status_code in (400, 413), body[:60]
    r.cli("RPUSH", PREFIX + "ingest", *bad[:5])
    huge = json.dumps([{"topic": "ing", "data": i} for i in range(50_000)])
    resp(r.port, "RPUSH", PREFIX + "ingest", *bad[5:], huge)
    started = time.monotonic()
    r.cli("RPUSH", PREFIX + "ingest", '{"topic":"ing","type":"good","data":"ok"}')
    e = sub.next_event()
    elapsed = time.monotonic() - started
    assert (e["event"], e["data"]) == ("good", "ok")
    assert_no_more_events(sub)
    sub.close()
    assert s.metric("ssecast_ingest_refused_total") == len(bad) + 1
    assert r.cli("LLEN", PREFIX + "ingest") == "0"
    assert r.cli("LLEN", PREFIX + "ingest:processing:i0") == "0"
    assert r.cli("XLEN", PREFIX + "topic:ing") == "1"  # only "good" was stored
    print(f"ten refused items incl. 50k events, then one good: {elapsed * 1000:.0f} ms")


def test_http_and_ingest_refuse_the_same_bodies_for_the_same_reasons(one):
    """The same bodies through POST /publish and RPUSH <prefix>ingest: the reason the HTTP
    answer gives (error code and message) is the reason the ingest consumer logs."""
    s, r = one.servers[0], one.redis
    reasons = []
    for body in REFUSED_BODIES:
        answer = s.publish(None, raw=body)
        assert answer.status_code in (400, 413), body[:60]
        reasons.append((answer.json()["error"], answer.json()["message"]))
    resp(r.port, "RPUSH", PREFIX + "ingest", *REFUSED_BODIES)
    wait_until(lambda: s.metric("ssecast_ingest_refused_total") == len(REFUSED_BODIES),
               timeout=10, what="every ingest item refused")
    logs = s.logs()
    for body, (error, message) in zip(REFUSED_BODIES, reasons):
        assert f"({error}: {message})" in logs, (body[:60], error, message)
    assert r.cli("XLEN", PREFIX + "topic:ing") == "0"
