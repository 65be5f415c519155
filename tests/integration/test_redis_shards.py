# SPDX-License-Identifier: MIT
# Issue #18 (SPEC §Scaling out: several Redis shards), on real redis-server processes:
# topics live on the shard the documented hash picks, a prefix subscription stays on one
# shard, a resume on another instance reads exactly its shard's history, one shard down
# fails only its own topics, the registry / statistics / ingest keep working on shard 0,
# and kill -9 of instances and of a shard under publishing loses and duplicates nothing.
import json
import time

import pytest
import requests

from conftest import RedisServer, Server, stop_all_clean, wait_until
from redis_support import PREFIX, assert_no_more_events, auth, shard_of, topic_on
from test_chaos import Publisher, Subscriber, all_ready, id_key


class Shards:
    """`k` redis-servers (AOF, fsync always: a killed one comes back with what it
    acknowledged) and `n` ssecast instances with redis.shards listing them in order."""

    def __init__(self, k=2, n=2, env=None):
        self.env = dict(env or {})
        self.redis = [RedisServer(args=["--appendonly", "yes", "--appendfsync", "always"]).start()
                      for _ in range(k)]
        self.servers = []
        try:
            for i in range(n):
                self.servers.append(self.make(i))
        except BaseException:
            self.stop()
            raise

    def make(self, i):
        env = {"SSECAST_REDIS_SHARDS": " ".join(r.url for r in self.redis),
               "SSECAST_REDIS_INSTANCE_ID": f"i{i}", "SSECAST_SSE_HEARTBEAT_SECONDS": "1",
               "SSECAST_HTTP_THREADS": "2", **self.env}
        return Server(env=env).start()

    def wait_ready(self, timeout=15):
        for s in self.servers:
            wait_until(lambda: requests.get(s.url + "/readyz", timeout=1).status_code == 200,
                       timeout=timeout, what=f"{s.url} ready")

    def kill_shard(self, i, server, topic):
        """kill -9 of shard i, then wait until `server` answers 503 for `topic` on it."""
        self.redis[i].proc.kill()
        self.redis[i].proc.wait(timeout=5)
        wait_until(lambda: server.publish({"topic": topic, "data": "refused"}).status_code == 503,
                   timeout=10, what="publishes to the down shard refused")

    def stop(self):
        try:
            stop_all_clean(self.servers)
        finally:
            for r in self.redis:
                r.stop()


@pytest.fixture
def make_shards():
    made = []

    def factory(k=2, n=2, env=None):
        c = Shards(k, n, env)
        made.append(c)
        c.wait_ready()
        return c

    yield factory
    stop_all_clean(made)


def keys_on(redis, pattern):
    return set(redis.cli("--scan", "--pattern", pattern).split())


def test_topics_live_on_the_shard_the_documented_hash_picks(make_shards):
    c = make_shards(k=3, n=2)
    a, b = c.servers
    topics = [f"k{i}" for i in range(24)] + ["orders/1", "orders/eu/2"]
    for i, t in enumerate(topics):
        assert c.servers[i % 2].publish({"topic": t, "data": i}).status_code == 200
    assert {shard_of(t, 3) for t in topics} == {0, 1, 2}  # the test spreads over all three
    for t in topics:
        holders = [i for i, r in enumerate(c.redis) if r.cli("XLEN", PREFIX + "topic:" + t) != "0"]
        assert holders == [shard_of(t, 3)], t
    # A prefix subscription is one Redis subscription on the one shard of its topics.
    home = shard_of("orders", 3)
    s = b.subscribe("orders/*", headers=auth("p"))
    assert s.status == 200
    wait_until(lambda: c.redis[home].cli("PUBSUB", "NUMPAT") == "1", timeout=5,
               what="PSUBSCRIBEd on its shard")
    for i, r in enumerate(c.redis):
        if i != home:
            assert r.cli("PUBSUB", "NUMPAT") == "0", i
    ids = [a.publish({"topic": f"orders/{n}", "data": n}).json()["id"] for n in (3, 4)]
    assert [e["id"] for e in s.events(2)] == ids
    s.close()
    # Registry and statistics live on shard 0 only.
    assert keys_on(c.redis[0], PREFIX + "instance:*")
    for r in c.redis[1:]:
        assert not keys_on(r, PREFIX + "instance:*")
    wait_until(lambda: a.admin().json()["global"]["instances"] == 2, timeout=10,
               what="both instances in the registry")
    doc = a.admin().json()
    assert [x["status"] for x in doc["redis"]["shards"]] == ["connected"] * 3


def positions(event_id):
    """{shard: (ms, seq)} of a composite id ("<shard>:<ms>-<seq>,..."), docs/redis.md §Shards."""
    out = {}
    for entry in event_id.split(","):
        shard, _, rest = entry.partition(":")
        ms, _, seq = rest.partition("-")
        out[int(shard)] = (int(ms), int(seq))
    return out


def spread(k, per_shard, base):
    """`per_shard` topic names on each of `k` shards, interleaved."""
    by_shard = [[] for _ in range(k)]
    i = 0
    while any(len(t) < per_shard for t in by_shard):
        name = f"{base}{i}"
        home = by_shard[shard_of(name, k)]
        if len(home) < per_shard:
            home.append(name)
        i += 1
    return [t for group in zip(*by_shard) for t in group]


def test_a_ten_topic_stream_over_three_shards_resumes_exactly_on_another_instance(make_shards):
    c = make_shards(k=3, n=2)
    a, b = c.servers
    topics = spread(3, 3, "m")[:8] + ["mp/1", "mp/2"]  # 10 topics, a prefix pair among them
    assert {shard_of(t, 3) for t in topics} == {0, 1, 2}
    patterns = topics[:8] + ["mp/*"]
    s = a.subscribe(*patterns, headers=auth("m"))
    assert s.status == 200
    seen = []
    for i, t in enumerate(topics):
        r = b.publish({"topic": t, "data": f"seen{i}"})
        assert r.status_code == 200, r.text
        e = s.next_event()
        assert e["data"] == f"seen{i}"
        seen.append(e["id"])
    # Each event's id carries where the stream stands on every shard it reads, and only the
    # shard of that event moves.
    for before, after, t in zip(seen, seen[1:], topics[1:]):
        p, q = positions(before), positions(after)
        assert set(p) == set(q) == {0, 1, 2}, after
        moved = {sh for sh in q if q[sh] != p[sh]}
        assert moved == {shard_of(t, 3)}, (before, after, t)
    s.close()
    # Away: events on every shard, one of them on topics of two shards, and traffic on
    # topics it does not read.
    missed = []
    for i, t in enumerate(topics + [topics[0]]):
        assert a.publish({"topic": t, "data": f"missed{i}"}).status_code == 200
        missed.append(f"missed{i}")
    two = [topics[0], topics[1]]  # different shards (spread interleaves them)
    assert shard_of(two[0], 3) != shard_of(two[1], 3)
    assert a.publish({"topics": two, "data": "on-two-shards"}).status_code == 200
    missed.append("on-two-shards")
    for t in spread(3, 2, "other"):
        assert a.publish({"topic": t, "data": "not-for-it"}).status_code == 200
    r = b.subscribe(*patterns, headers={**auth("m"), "Last-Event-ID": seen[-1]})
    assert r.status == 200
    got = r.events(len(missed))
    assert sorted(e["data"] for e in got) == sorted(missed)
    # Per shard in publish order (the event on two shards counts once).
    order = {d: i for i, d in enumerate(missed)}
    for sh in range(3):
        on = [e["data"] for e in got if e["data"] != "on-two-shards" and
              shard_of(topics[int(e["data"][6:]) % len(topics)], 3) == sh]
        assert on == sorted(on, key=order.get), (sh, on)
    assert_no_more_events(r)
    # And live after the resume, still with composite ids.
    live = a.publish({"topic": topics[2], "data": "live"})
    e = r.next_event()
    assert e["data"] == "live" and set(positions(e["id"])) == {0, 1, 2}
    # Resuming from the id before the last one gets exactly the last one again.
    r.close()
    again = b.subscribe(*patterns, headers={**auth("m"), "Last-Event-ID": got[-1]["id"]})
    assert [x["data"] for x in again.events(1)] == ["live"]
    assert_no_more_events(again)
    again.close()
    assert live.status_code == 200


def test_a_new_stream_over_shards_resumes_shards_it_never_heard_from(make_shards):
    # The first id it gets already says where it stands on the shards that sent nothing yet.
    c = make_shards(k=2, n=2)
    a, b = c.servers
    x, y = topic_on(0, 2, base="n"), topic_on(1, 2, base="n")
    assert b.publish({"topic": y, "data": "before-it-connected"}).status_code == 200
    s = a.subscribe(x, y, headers=auth("n"))
    assert s.status == 200
    time.sleep(0.3)  # the stream is set up (no event of y may sneak in after this)
    first = b.publish({"topic": x, "data": "x1"}).json()["id"]
    e = s.next_event()
    assert e["data"] == "x1" and set(positions(e["id"])) == {0, 1}
    assert positions(e["id"])[0] == tuple(int(v) for v in first.split("-"))
    s.close()
    ys = [b.publish({"topic": y, "data": f"y{i}"}).json()["id"] for i in range(3)]
    r = a.subscribe(x, y, headers={**auth("n"), "Last-Event-ID": e["id"]})
    assert [x_["data"] for x_ in r.events(3)] == ["y0", "y1", "y2"]
    assert_no_more_events(r)
    r.close()
    assert len(ys) == 3


def test_a_shard_that_never_stored_an_event_resumes_without_history_lost(make_shards):
    # A new cluster: shard 1 holds nothing yet when the stream starts (its position is taken
    # before its data begins), then gets its first events while the client is away.
    c = make_shards(k=2, n=1)
    s = c.servers[0]
    x, y = topic_on(0, 2, base="e"), topic_on(1, 2, base="e")
    st = s.subscribe(x, y, headers=auth("e"))
    assert st.status == 200
    time.sleep(0.3)
    assert s.publish({"topic": x, "data": "x1"}).status_code == 200
    e = st.next_event()
    assert e["data"] == "x1"
    st.close()
    for i in range(2):
        assert s.publish({"topic": y, "data": f"y{i}"}).status_code == 200
    r = s.subscribe(x, y, headers={**auth("e"), "Last-Event-ID": e["id"]})
    assert [x_["data"] for x_ in r.events(2)] == ["y0", "y1"]
    assert_no_more_events(r)
    r.close()


def test_ids_that_say_nothing_of_a_shard_get_history_lost(make_shards):
    c = make_shards(k=2, n=1)
    s = c.servers[0]
    x, y = topic_on(0, 2, base="h"), topic_on(1, 2, base="h")
    plain = s.publish({"topic": x, "data": "x0"}).json()["id"]
    # A plain id (from a stream on one shard, or the single-node version) on a stream over
    # two shards: it cannot say where the other shard stood.
    for sent in (plain, f"0:{plain}", "garbage"):
        st = s.subscribe(x, y, headers={**auth("h"), "Last-Event-ID": sent})
        first = st.next_event()
        assert first["event"] == "ssecast.history-lost", (sent, first)
        assert json.loads(first["data"]) == {"lastEventId": sent}
        assert_no_more_events(st, wait=0.3)
        ok = s.publish({"topic": y, "data": "after"})
        e = st.next_event()
        assert e["data"] == "after" and set(positions(e["id"])) == {0, 1}, e
        st.close()
        assert ok.status_code == 200
    # A composite id on a stream of one shard: that shard's position, exactly.
    st = s.subscribe(x, headers=auth("h"))
    assert st.status == 200
    time.sleep(0.2)
    later = s.publish({"topic": x, "data": "x1"}).json()["id"]
    e = st.next_event()
    assert e["id"] == later  # a stream on one shard keeps plain ids
    st.close()
    st = s.subscribe(x, headers={**auth("h"), "Last-Event-ID": f"0:{plain},1:1-0"})
    assert [e["data"] for e in st.events(1)] == ["x1"]
    assert_no_more_events(st)
    st.close()


def test_every_topic_stream_reads_all_shards_and_an_event_on_two_shards_once(make_shards):
    c = make_shards(k=3, n=2)
    a, b = c.servers
    s = a.subscribe("*", headers=auth("all"))
    assert s.status == 200
    time.sleep(0.3)
    names = spread(3, 1, "w")
    for t in names:
        assert b.publish({"topic": t, "data": t}).status_code == 200
    got = s.events(3)
    assert [e["data"] for e in got] == names
    assert set(positions(got[-1]["id"])) == {0, 1, 2}
    both = b.publish({"topics": [names[2], names[0]], "data": "both"}).json()["id"]
    e = s.next_event()
    assert e["data"] == "both"
    assert_no_more_events(s)
    s.close()
    # On resume from before it, the two stored copies still make one event.
    r = b.subscribe("*", headers={**auth("all"), "Last-Event-ID": got[-1]["id"]})
    assert [x["data"] for x in r.events(1)] == ["both"]
    assert_no_more_events(r)
    r.close()
    assert both


def test_a_resume_on_another_instance_gets_exactly_what_it_missed(make_shards):
    c = make_shards(k=3, n=2)
    a, b = c.servers
    for shard in (1, 2):
        t = topic_on(shard, 3, base="r")
        first = a.publish({"topic": t, "data": "seen"}).json()["id"]
        s = a.subscribe(t, f"{t}/*", headers={**auth("r"), "Last-Event-ID": "0-0"})
        got = s.events(2)
        assert got[0]["event"] == "ssecast.history-lost"  # 0-0 predates everything
        assert got[1]["id"] == first
        s.close()
        missed = [b.publish({"topic": n, "data": i}).json()["id"]
                  for i, n in enumerate([t, f"{t}/x", t])]
        s = b.subscribe(t, f"{t}/*", headers={**auth("r"), "Last-Event-ID": first})
        assert [e["id"] for e in s.events(3)] == missed
        assert_no_more_events(s)
        s.close()


def test_one_shard_down_fails_only_its_topics_and_they_resume_when_it_returns(make_shards):
    c = make_shards(k=2, n=2)
    a, b = c.servers
    up, down = topic_on(0, 2, base="up"), topic_on(1, 2, base="down")
    s_up = a.subscribe(up, headers=auth("u"))
    s_down = a.subscribe(down, headers=auth("d"))
    before = b.publish({"topic": down, "data": "before"}).json()["id"]
    assert s_down.next_event()["id"] == before
    c.kill_shard(1, b, down)
    # Every other topic is served as usual, and the instance stays ready.
    ok = b.publish({"topic": up, "data": "still"})
    assert ok.status_code == 200, ok.text
    assert s_up.next_event()["id"] == ok.json()["id"]
    r = requests.get(a.url + "/readyz", timeout=2)
    assert r.status_code == 200 and r.json()["shardsDown"] == [1], r.text
    assert [x["status"] for x in a.admin().json()["redis"]["shards"]] == \
        ["connected", "disconnected"]
    # The down shard's subscriber keeps its stream (heartbeats go on).
    beats = s_down.comments
    assert_no_more_events(s_down, wait=2.2)
    assert s_down.comments > beats
    # It comes back with its data (AOF): publishing resumes, the stream goes on, and a
    # client that was away resumes exactly.
    c.redis[1].start()
    wait_until(lambda: b.publish({"topic": down, "data": "back"}).status_code == 200,
               timeout=15, what="publishes to the returned shard")
    back = s_down.next_event()
    assert back["data"] == "back"
    r = a.subscribe(down, headers={**auth("d2"), "Last-Event-ID": before})
    assert [e["data"] for e in r.events(1)] == ["back"]
    assert_no_more_events(r)
    r.close()
    wait_until(lambda: requests.get(a.url + "/readyz", timeout=2).json()["shardsDown"] == [],
               timeout=10, what="no shard down")
    s_up.close()
    s_down.close()


def test_a_stream_over_two_shards_rides_out_one_of_them_down(make_shards):
    c = make_shards(k=2, n=2)
    a, b = c.servers
    up, down = topic_on(0, 2, base="ru"), topic_on(1, 2, base="rd")
    s = a.subscribe(up, down, headers=auth("r"))
    assert s.status == 200
    time.sleep(0.3)
    assert b.publish({"topic": down, "data": "d0"}).status_code == 200
    assert s.next_event()["data"] == "d0"
    c.kill_shard(1, b, down)
    # The other shard's events go on reaching the stream, with ids on both shards.
    ok = b.publish({"topic": up, "data": "u0"})
    assert ok.status_code == 200, ok.text
    e = s.next_event()
    assert e["data"] == "u0" and set(positions(e["id"])) == {0, 1}
    # A new stream needs a position on the down shard before it may start: 503 with
    # Retry-After, never a stream whose ids miss a shard.
    n = a.subscribe(up, down, headers=auth("r2"))
    assert n.status == 503 and n.headers.get("retry-after") == "2", (n.status, n.headers)
    n.close()
    c.redis[1].start()
    wait_until(lambda: b.publish({"topic": down, "data": "d1"}).status_code == 200,
               timeout=15, what="publishes to the returned shard")
    assert s.next_event()["data"] == "d1"
    # A client that was away over the outage resumes exactly from the id before it.
    r = b.subscribe(up, down, headers={**auth("r"), "Last-Event-ID": e["id"]})
    assert [x["data"] for x in r.events(1)] == ["d1"]
    assert_no_more_events(r)
    r.close()
    assert_no_more_events(s)
    s.close()


def test_without_shard_0_an_instance_is_not_ready(make_shards):
    c = make_shards(k=2, n=1)
    s = c.servers[0]
    c.redis[0].proc.kill()
    c.redis[0].proc.wait(timeout=5)
    wait_until(lambda: requests.get(s.url + "/readyz", timeout=2).status_code == 503,
               timeout=10, what="not ready without the registry's shard")
    assert requests.get(s.url + "/readyz", timeout=2).json()["shardsDown"] == [0]
    ok = s.publish({"topic": topic_on(1, 2), "data": 1})
    assert ok.status_code == 200, ok.text  # shard 1's topics are still published
    c.redis[0].start()
    wait_until(lambda: requests.get(s.url + "/readyz", timeout=2).status_code == 200,
               timeout=15, what="ready again")


def test_a_batch_over_two_shards_is_stored_on_each(make_shards):
    c = make_shards(k=2, n=2)
    a, b = c.servers
    x, y = topic_on(0, 2), topic_on(1, 2)
    sx, sy = a.subscribe(x, headers=auth("x")), b.subscribe(y, headers=auth("y"))
    r = a.publish([{"topic": y, "data": 1}, {"topic": x, "data": 2}, {"topic": y, "data": 3}])
    assert r.status_code == 200, r.text
    ids = r.json()["ids"]
    assert [e["id"] for e in sy.events(2)] == [ids[0], ids[2]]
    assert [e["id"] for e in sx.events(1)] == [ids[1]]
    # One event on topics of both shards: stored on each, each stream gets it once.
    both = a.publish({"topics": [x, y], "data": "both"})
    assert both.status_code == 200, both.text
    assert sx.next_event()["data"] == "both" and sy.next_event()["data"] == "both"
    assert_no_more_events(sx)
    assert_no_more_events(sy)
    # A shard down fails the whole request (503), never a 200.
    c.redis[1].proc.kill()
    c.redis[1].proc.wait(timeout=5)
    wait_until(lambda: a.publish([{"topic": x, "data": 4}, {"topic": y, "data": 5}])
               .status_code == 503, timeout=10, what="a batch touching the down shard refused")
    sx.close()
    sy.close()


def test_ingest_items_reach_topics_on_every_shard(make_shards):
    c = make_shards(k=2, n=2)
    a, b = c.servers
    x, y = topic_on(0, 2, base="ix"), topic_on(1, 2, base="iy")
    sx, sy = b.subscribe(x, headers=auth("x")), b.subscribe(y, headers=auth("y"))
    for t in (x, y):
        c.redis[0].cli("RPUSH", PREFIX + "ingest", json.dumps({"topic": t, "data": t}))
    assert sx.next_event()["data"] == x
    assert sy.next_event()["data"] == y
    assert_no_more_events(sx)
    assert_no_more_events(sy)
    wait_until(lambda: c.redis[0].cli("LLEN", PREFIX + "ingest") == "0" and not any(
        c.redis[0].cli("LLEN", f"{PREFIX}ingest:processing:i{i}") != "0" for i in range(2)),
        timeout=5, what="every item consumed")
    assert c.redis[1].cli("XLEN", PREFIX + "topic:" + y) == "1"
    sx.close()
    sy.close()


def test_chaos_kill_instances_and_a_shard_under_publishing_loses_nothing(make_shards):
    c = make_shards(k=2, n=3)
    servers = c.servers
    topics = [topic_on(0, 2, base="chaos"), topic_on(1, 2, base="chaos")]
    pubs = [Publisher(servers, topic=t) for t in topics]
    subs = [Subscriber(n, servers, topic=topics[n % 2]) for n in range(4)]
    # Streams over both shards resume with composite ids across the same kills.
    both = f"{topics[0]}&topic={topics[1]}"
    subs += [Subscriber(n, servers, topic=both) for n in range(4, 7)]
    try:
        for s in subs:
            s.start()
        for s in subs:
            assert s.live.wait(10)
        for p in pubs:
            p.start()

        def acked():
            return sum(len(p.acked) for p in pubs)

        def settle(n, what):
            mark = acked()
            wait_until(lambda: acked() >= mark + n, timeout=20, what=what)

        settle(30, "publishing")
        # kill -9 each instance in turn and start it again on its port
        for i in range(len(servers)):
            servers[i].kill()
            settle(20, f"publishing while instance {i} is down")
            servers[i].start()
            wait_until(lambda: all_ready(c), timeout=20, what="instances ready after restart")
            settle(30, f"publishing after restarting instance {i}")
        # kill -9 shard 1 (AOF: it keeps what it acknowledged): its topic's publishes are
        # refused, shard 0's topic goes on; then it comes back
        c.redis[1].proc.kill()
        c.redis[1].proc.wait(timeout=5)
        refused = pubs[1].refused.get(503, 0)
        wait_until(lambda: pubs[1].refused.get(503, 0) >= refused + 3, timeout=15,
                   what="publishes to the killed shard refused")
        mark = len(pubs[0].acked)
        wait_until(lambda: len(pubs[0].acked) >= mark + 20, timeout=15,
                   what="the other shard's topic still published")
        c.redis[1].start()
        mark = len(pubs[1].acked)
        wait_until(lambda: len(pubs[1].acked) >= mark + 30, timeout=20,
                   what="publishing to the shard that came back")
    finally:
        for p in pubs:
            p.stop_flag.set()
            p.join(timeout=10)
    # every subscriber catches up with everything acknowledged on its topic
    last = {t: p.acked[-1][1] for t, p in zip(topics, pubs)}
    want_seqs = {t: [seq for seq, _, _ in p.acked] for t, p in zip(topics, pubs)}

    def caught_up(s):
        if s.topic in last:
            return s.last_id == last[s.topic]
        have = set(s.keyed)
        return all((t, want_seqs[t][-1]) in have for t in topics)

    wait_until(lambda: all(caught_up(s) for s in subs), timeout=20, what="subscribers caught up")
    for s in subs:
        s.stop_flag.set()
        s.disconnect()
        s.join(timeout=10)
    for s in subs:
        if s.topic not in last:  # over both shards: each topic's events once, in order
            assert not s.history_lost, (s.n, s.history_lost)
            assert len(s.keyed) == len(set(s.keyed)), (s.n, "duplicates")
            for t in topics:
                got = [seq for topic, seq in s.keyed if topic == t]
                missing = set(want_seqs[t]) - set(got)
                assert not missing, (s.n, t, len(missing), sorted(missing)[:10])
                assert got == sorted(got), (s.n, t, "out of order")
            assert all("," in i for i, _ in s.events), (s.n, "a plain id on two shards")
            assert s.connects > 1, (s.n, "never reconnected: the kills did not reach it")
            continue
        pub = pubs[topics.index(s.topic)]
        want = [seq for seq, _, _ in pub.acked]
        got = [seq for _, seq in s.events if seq is not None]
        assert not s.history_lost, (s.n, s.history_lost)
        missing = set(want) - set(got)
        assert not missing, (s.n, len(missing), sorted(missing)[:10])
        assert len(got) == len(set(got)), (s.n, "duplicates")
        ids = [i for i, _ in s.events]
        assert ids == sorted(ids, key=id_key), (s.n, "out of order")
        assert s.connects > 1, (s.n, "never reconnected: the kills did not reach it")
