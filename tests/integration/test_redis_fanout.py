# SPDX-License-Identifier: MIT
# Redis mode, SPEC §Modes/§Publish/§Resume across 3 instances: cross-instance delivery
# exactly once, resume on another instance, history-lost, publishing through Redis itself.
import json
import time

import pytest
import requests

from conftest import wait_until
from redis_support import PREFIX, assert_no_more_events, auth, token


def test_anonymous_subscribe_is_refused_in_redis_mode(cluster):
    stream = cluster.servers[0].subscribe("news")
    assert stream.status == 401
    stream.close()


def test_publish_on_one_instance_reaches_every_instance_exactly_once(cluster):
    a, b, c = cluster.servers
    streams = [s.subscribe("orders", headers=auth(f"user{i}")) for i, s in enumerate((a, b, c))]
    assert all(s.status == 200 for s in streams)
    r = a.publish({"topic": "orders", "type": "order.updated", "data": {"n": 1}})
    assert r.status_code == 200, r.text
    event_id = r.json()["id"]
    for s in streams:
        assert s.next_event() == {"id": event_id, "event": "order.updated", "data": '{"n":1}'}
    for s in streams:
        assert_no_more_events(s)
        s.close()


def test_ids_increase_across_instances_in_publish_order(cluster):
    ids = []
    for i in range(9):
        r = cluster.servers[i % 3].publish({"topic": "t", "data": i})
        assert r.status_code == 200, r.text
        ids.append(tuple(int(p) for p in r.json()["id"].split("-")))
    assert ids == sorted(ids) and len(set(ids)) == len(ids)


def test_resume_on_another_instance_gets_exactly_the_missed_events(cluster):
    a, b, c = cluster.servers
    first = b.subscribe("room", headers=auth("alice"))
    sent = [a.publish({"topic": "room", "data": f"m{i}"}).json()["id"] for i in range(3)]
    got = first.events(3)
    assert [e["id"] for e in got] == sent
    first.close()
    missed = [a.publish({"topic": "room", "data": f"m{i}"}).json()["id"] for i in range(3, 6)]
    a.publish({"topic": "elsewhere", "data": "not for this subscription"})
    second = c.subscribe("room", headers={**auth("alice"), "Last-Event-ID": got[-1]["id"]})
    assert second.status == 200
    replayed = second.events(3)
    assert [e["id"] for e in replayed] == missed
    assert [e["data"] for e in replayed] == ["m3", "m4", "m5"]
    live = b.publish({"topic": "room", "data": "live"}).json()["id"]
    assert second.next_event()["id"] == live
    assert_no_more_events(second)
    second.close()


def test_history_lost_when_the_id_is_older_than_the_stream_keeps(make_cluster):
    c = make_cluster(env={"SSECAST_HISTORY_MAX_EVENTS": "5"})
    a, b, _ = c.servers
    old = a.publish({"topic": "h", "data": "old"}).json()["id"]
    kept = [a.publish({"topic": "h", "data": i}).json()["id"] for i in range(10)][-5:]
    assert int(c.redis.cli("XLEN", PREFIX + "topic:h")) == 5
    s = b.subscribe("h", headers={**auth("bob"), "Last-Event-ID": old})
    lost = s.next_event()
    assert lost["event"] == "ssecast.history-lost"
    assert json.loads(lost["data"]) == {"lastEventId": old}
    assert [e["id"] for e in s.events(5)] == kept
    assert_no_more_events(s)
    s.close()
    # An id still covered by the stream resumes without the marker.
    s = b.subscribe("h", headers={**auth("bob"), "Last-Event-ID": kept[2]})
    assert [e["id"] for e in s.events(2)] == kept[3:]
    assert_no_more_events(s)
    s.close()


def test_publishing_through_redis_reaches_every_subscriber_exactly_once(cluster):
    streams = [s.subscribe("direct", headers=auth(f"u{i}"))
               for i, s in enumerate(cluster.servers)]
    r = cluster.redis
    assert r.cli("RPUSH", PREFIX + "ingest",
                 json.dumps({"topic": "direct", "type": "backend", "data": {"k": 1}})) == "1"
    r.cli("RPUSH", PREFIX + "ingest", "{not json")  # dropped with a warning, not fatal
    r.cli("RPUSH", PREFIX + "ingest",
          json.dumps([{"topics": ["direct"], "data": "a"}, {"topic": "direct", "data": "b"}]))
    for s in streams:
        events = s.events(3)
        assert [(e["event"], e["data"]) for e in events] == [
            ("backend", '{"k":1}'), ("message", "a"), ("message", "b")]
        ids = [e["id"] for e in events]
        assert ids == sorted(ids, key=lambda i: tuple(map(int, i.split("-"))))
    for s in streams:
        assert_no_more_events(s)
        s.close()
    assert r.cli("LLEN", PREFIX + "ingest") == "0"
    for i in range(3):
        assert r.cli("LLEN", f"{PREFIX}ingest:processing:i{i}") == "0"
    # Stored too: a late subscriber can resume across them.
    assert int(r.cli("XLEN", PREFIX + "topic:direct")) == 3


def test_many_ingest_items_are_published_once_each(cluster):
    s = cluster.servers[1].subscribe("bulk", headers=auth("bulk"))
    items = [json.dumps({"topic": "bulk", "data": str(i)}) for i in range(60)]
    cluster.redis.cli("RPUSH", PREFIX + "ingest", *items)
    got = sorted(int(e["data"]) for e in s.events(60))
    assert got == list(range(60))
    assert_no_more_events(s)
    s.close()


def test_age_trim_is_exact_and_skipped_while_nothing_is_old(make_cluster):
    """history.max_age_seconds in redis mode: events older than the age leave the stream on
    the next publish, and replay knows exactly which (history-lost from before the trimmed
    ones, none from the last trimmed one). While nothing is old enough, publish.lua does not
    search the stream for expired entries (issue #13: that search cost a walk per publish)."""
    c = make_cluster(n=1, env={"SSECAST_HISTORY_MAX_AGE_SECONDS": "1"})
    srv = c.servers[0]
    a = srv.publish({"topic": "age", "data": "a"}).json()["id"]
    b = srv.publish({"topic": "age", "data": "b"}).json()["id"]
    c.redis.cli("CONFIG", "RESETSTAT")
    srv.publish({"topic": "age", "data": "fresh"})  # nothing is old yet
    stats = c.redis.cli("INFO", "commandstats")
    assert "cmdstat_xrevrange" not in stats, stats
    time.sleep(1.3)
    d = srv.publish({"topic": "age", "data": "d"}).json()["id"]
    assert int(c.redis.cli("XLEN", PREFIX + "topic:age")) == 1
    s = srv.subscribe("age", headers={**auth("bob"), "Last-Event-ID": a})
    lost = s.next_event()
    assert lost["event"] == "ssecast.history-lost"  # b and "fresh" were trimmed after a
    assert s.next_event()["id"] == d
    s.close()
