# SPDX-License-Identifier: MIT
# Issue #13 in redis mode, on a real redis-server: history per topic (a busy topic never
# pushes a quiet one out), resumes that read only their topics (prefixes included), an
# instance subscribed in Redis only to what its clients use, the subscribe-before-replay
# seam under continuous publishing, and the upgrade from the single-stream layout.
import threading
import time

from conftest import CheckedThread, Server, instance_env, wait_until
from redis_support import PREFIX, assert_no_more_events, auth


def numsub(redis, channel):
    out = redis.cli("PUBSUB", "NUMSUB", channel).split()
    return int(out[1])


def test_a_busy_topic_does_not_push_a_quiet_topics_history_out(make_cluster):
    c = make_cluster(n=2, env={"SSECAST_HISTORY_MAX_EVENTS": "20"})
    a, b = c.servers
    before = a.publish({"topic": "other", "data": "start"}).json()["id"]
    quiet = [a.publish({"topic": "quiet", "data": f"q{i}"}).json()["id"] for i in range(2)]
    hot = [b.publish({"topic": "hot", "data": f"h{i}"}).json()["id"] for i in range(30)]
    s = b.subscribe("quiet", headers={**auth("q"), "Last-Event-ID": before})
    got = s.events(2)
    assert [(e["id"], e["data"]) for e in got] == [(quiet[0], "q0"), (quiet[1], "q1")]
    assert_no_more_events(s)
    s.close()
    # The busy topic itself lost its oldest ten, and says so, then replays its last 20.
    h = a.subscribe("hot", headers={**auth("h"), "Last-Event-ID": before})
    assert h.next_event()["event"] == "ssecast.history-lost"
    assert [e["id"] for e in h.events(20)] == hot[10:]
    h.close()
    assert int(c.redis.cli("XLEN", PREFIX + "topic:hot")) == 20
    assert int(c.redis.cli("XLEN", PREFIX + "topic:quiet")) == 2
    # From exactly the newest trimmed id nothing is lost.
    h = a.subscribe("hot", headers={**auth("h"), "Last-Event-ID": hot[9]})
    assert [e["id"] for e in h.events(20)] == hot[10:]
    assert_no_more_events(h)
    h.close()


def test_prefix_resume_and_an_event_on_two_topics_arrives_once(cluster):
    a, b, _ = cluster.servers
    start = a.publish({"topic": "x", "data": "start"}).json()["id"]
    ids = [a.publish({"topic": t, "data": t}).json()["id"]
           for t in ("orders/1", "news", "orders/eu/2", "orders")]
    both = a.publish({"topics": ["orders/1", "news"], "data": "both"}).json()["id"]
    s = b.subscribe("orders/*", "news", headers={**auth("p"), "Last-Event-ID": start})
    got = s.events(4)
    assert [(e["id"], e["data"]) for e in got] == [
        (ids[0], "orders/1"), (ids[1], "news"), (ids[2], "orders/eu/2"), (both, "both")]
    # Live too: once, though the instance receives it on two channels.
    live = a.publish({"topics": ["orders/9", "news"], "data": "live"}).json()["id"]
    assert s.next_event()["id"] == live
    assert_no_more_events(s)
    s.close()


def test_an_instance_subscribes_only_to_what_its_clients_use(cluster):
    a, b, c = cluster.servers
    r = cluster.redis
    assert numsub(r, PREFIX + "events:sel") == 0
    s = a.subscribe("sel", headers=auth("s"))
    assert numsub(r, PREFIX + "events:sel") == 1  # confirmed before the stream answered
    s2 = a.subscribe("sel", headers=auth("s2"))
    assert numsub(r, PREFIX + "events:sel") == 1  # one Redis subscription per instance
    p = b.subscribe("area/*", headers=auth("p"))
    assert r.cli("PUBSUB", "NUMPAT") == "1"
    # Instance c has no client: it receives nothing of the 50 events (its delivered counter
    # stays at zero, and Redis sends it nothing: NUMSUB counts only a's connection).
    for i in range(50):
        assert b.publish({"topic": "sel", "data": i}).status_code == 200
    assert [int(e["data"]) for e in s.events(50)] == list(range(50))
    assert c.metric("ssecast_events_delivered_total") == 0
    s.close()
    s2.close()
    p.close()
    wait_until(lambda: numsub(r, PREFIX + "events:sel") == 0, timeout=5,
               what="the last client gone: unsubscribed")
    wait_until(lambda: r.cli("PUBSUB", "NUMPAT") == "0", timeout=5, what="pattern dropped")
    # And back: a new client is subscribed again at once.
    s = a.subscribe("sel", headers=auth("s"))
    assert numsub(r, PREFIX + "events:sel") == 1
    s.close()


def test_resumes_on_new_topics_miss_nothing_while_publishing_goes_on(cluster):
    """The seam: each resume opens on an instance not yet subscribed to its topic, while
    that topic receives events continuously; the stream must see every event after its id
    exactly once (subscription confirmed, then replay, then live)."""
    a, b, _ = cluster.servers
    for k in range(6):
        topic = f"seam{k}"
        published = []
        stop = threading.Event()

        def publish():
            i = 0
            while not stop.is_set() and i < 2000:
                r = a.publish({"topic": topic, "data": i})
                assert r.status_code == 200
                published.append(r.json()["id"])
                i += 1

        t = CheckedThread(publish)  # a failed publish fails the test at join()
        t.start()
        wait_until(lambda: len(published) >= 20, timeout=10, what="publishing")
        resume_from = published[10]
        s = b.subscribe(topic, headers={**auth(f"seam{k}"), "Last-Event-ID": resume_from})
        time.sleep(0.3)
        stop.set()
        t.join()
        want = published[11:]
        got = [e["id"] for e in s.events(len(want), timeout=20)]
        assert got == want
        assert_no_more_events(s)
        s.close()


def test_history_of_the_single_stream_layout_is_dropped_on_upgrade_never_misread(make_cluster):
    c = make_cluster(n=1)
    srv = c.servers[0]
    srv.stop()
    r = c.redis
    # What a version before per-topic history left: one global stream and its keys.
    now = int(time.time() * 1000)
    old = [f"{now - 5000 + i}-0" for i in range(3)]
    r.cli("DEL", PREFIX + "layout", PREFIX + "stream:origin")
    for i, id_ in enumerate(old):
        r.cli("XADD", PREFIX + "stream", id_, "e",
              f'{{"type":"message","topics":["up"],"users":[],"data":"{i}","ts":{now}}}')
    r.cli("SET", PREFIX + "stream:last-id", old[-1])
    r.cli("SET", PREFIX + "stream:origin", old[0])
    r.cli("SET", PREFIX + "stream:trimmed", "1-0")
    srv = c.servers[0] = c.make(0)
    c.wait_ready()
    assert r.cli("EXISTS", PREFIX + "stream") == "0"
    assert r.cli("GET", PREFIX + "layout") == "2"
    assert "layout of a version before per-topic history" in srv.logs()
    # An id from the old history: its events cannot be read any more, so history-lost.
    s = srv.subscribe("up", headers={**auth("u"), "Last-Event-ID": old[0]})
    assert s.next_event()["event"] == "ssecast.history-lost"
    new = srv.publish({"topic": "up", "data": "new"}).json()["id"]
    assert s.next_event()["id"] == new
    s.close()
    assert tuple(map(int, new.split("-"))) > tuple(map(int, old[-1].split("-")))
    # A client that had seen everything loses nothing.
    s = srv.subscribe("up", headers={**auth("u"), "Last-Event-ID": old[-1]})
    assert s.next_event()["id"] == new
    assert_no_more_events(s)
    s.close()


def test_max_total_events_evicts_the_oldest_events_of_the_largest_topic_first(make_cluster):
    c = make_cluster(n=2, env={"SSECAST_HISTORY_MAX_EVENTS": "20",
                               "SSECAST_HISTORY_MAX_TOTAL_EVENTS": "20"})
    a, b = c.servers
    before = a.publish({"topic": "other", "data": "start"}).json()["id"]
    small = [a.publish({"topic": "small", "data": i}).json()["id"] for i in range(5)]
    big = [b.publish({"topic": "big", "data": i}).json()["id"] for i in range(20)]
    sizes = {t: int(c.redis.cli("XLEN", PREFIX + "topic:" + t)) for t in ("small", "big")}
    # 1 + 5 + 20 = 26 > 20: the six oldest of "big" went, nothing else.
    assert sizes == {"small": 5, "big": 14}, sizes
    assert int(c.redis.cli("GET", PREFIX + "history-total")) == sum(sizes.values()) + 1
    # The small topic lost nothing; the big one lost its oldest and says so.
    s = b.subscribe("small", headers={**auth("s"), "Last-Event-ID": before})
    assert [e["id"] for e in s.events(5)] == small
    assert_no_more_events(s)
    s.close()
    g = a.subscribe("big", headers={**auth("g"), "Last-Event-ID": before})
    assert g.next_event()["event"] == "ssecast.history-lost"
    assert [e["id"] for e in g.events(sizes["big"])] == big[-sizes["big"]:]
    g.close()


def test_a_lowered_max_total_events_applies_without_a_publish(make_cluster):
    c = make_cluster(n=1, env={"SSECAST_HISTORY_MAX_EVENTS": "50",
                               "SSECAST_HISTORY_MAX_TOTAL_EVENTS": "100"})
    a = c.servers[0]
    before = a.publish({"topic": "other", "data": "start"}).json()["id"]
    small = [a.publish({"topic": "small", "data": i}).json()["id"] for i in range(5)]
    for i in range(30):
        assert a.publish({"topic": "big", "data": i}).status_code == 200
    # An instance with a lower bound joins; nobody publishes. Its periodic publish check
    # applies the bound: the largest topic goes down first, the small one keeps all.
    b = Server(env=instance_env(c.redis.url, 1, SSECAST_HISTORY_MAX_EVENTS="50",
                                SSECAST_HISTORY_MAX_TOTAL_EVENTS="11")).start()
    c.servers.append(b)
    wait_until(lambda: int(c.redis.cli("GET", PREFIX + "history-total")) <= 11, timeout=10,
               what="history total down to the lowered bound")
    sizes = {t: int(c.redis.cli("XLEN", PREFIX + "topic:" + t)) for t in ("small", "big")}
    assert sizes == {"small": 5, "big": 5}, sizes
    s = b.subscribe("small", headers={**auth("s"), "Last-Event-ID": before})
    assert [e["id"] for e in s.events(5)] == small
    assert_no_more_events(s)
    s.close()


def test_a_topic_whose_history_expired_is_counted_from_zero_again(make_cluster):
    c = make_cluster(n=1, env={"SSECAST_HISTORY_MAX_AGE_SECONDS": "1"})
    a = c.servers[0]
    for i in range(3):
        assert a.publish({"topic": "t", "data": i}).status_code == 200
    assert c.redis.cli("ZSCORE", PREFIX + "topic-sizes", "t") == "3"
    # Idle past max_age (plus the TTL slack of a quarter of it): the stream expires with
    # its events; the next publish starts the topic's count again from what it holds.
    wait_until(lambda: c.redis.cli("EXISTS", PREFIX + "topic:t") == "0", timeout=5,
               what="the idle topic's stream expired")
    last = a.publish({"topic": "t", "data": "again"}).json()["id"]
    assert c.redis.cli("ZSCORE", PREFIX + "topic-sizes", "t") == "1"
    assert c.redis.cli("GET", PREFIX + "history-total") == "1"
    s = a.subscribe("t", headers={**auth("s"), "Last-Event-ID": "0-1"})
    first = s.next_event()
    assert first["event"] == "ssecast.history-lost"  # the three expired ones
    assert s.next_event()["id"] == last
    s.close()


def test_a_busy_topic_keeps_its_history_while_ttls_are_refreshed_lazily(make_cluster):
    c = make_cluster(n=1, env={"SSECAST_HISTORY_MAX_AGE_SECONDS": "1"})
    a = c.servers[0]
    ids = []
    deadline = time.monotonic() + 3.5  # several max_age periods of steady publishing
    while time.monotonic() < deadline:
        ids.append(a.publish({"topic": "busy", "data": len(ids)}).json()["id"])
        time.sleep(0.05)
    stream_ttl = int(c.redis.cli("PTTL", PREFIX + "topic:busy"))
    meta_ttl = int(c.redis.cli("PTTL", PREFIX + "topic-meta:busy"))
    # The stream outlives its last event by max_age to max_age + slack, the meta record
    # by at least 2 x max_age (what replay.lua relies on).
    assert 1000 - 300 < stream_ttl <= 1250, stream_ttl
    assert 2000 - 300 < meta_ttl <= 2250, meta_ttl
    # The newest events are all still there for a resume.
    s = a.subscribe("busy", headers={**auth("s"), "Last-Event-ID": ids[-4]})
    assert [e["id"] for e in s.events(3)] == ids[-3:]
    s.close()
