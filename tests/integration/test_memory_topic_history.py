# SPDX-License-Identifier: MIT
# SPEC §Resume, memory mode: history is kept per topic (a busy topic does not push a quiet
# one's events out), history.max_total_events bounds the sum, and a resume reads only the
# subscription's topics, prefixes included (issue #13).
import time


def _ids(srv, topic, n):
    return [srv.publish({"topic": topic, "data": i}).json()["id"] for i in range(n)]


def test_a_quiet_topic_keeps_its_history_while_a_busy_one_churns(make_server):
    srv = make_server(env={"SSECAST_HISTORY_MAX_EVENTS": "20"}).start()
    before = srv.publish({"topic": "elsewhere", "data": "x"}).json()["id"]
    quiet = _ids(srv, "quiet", 2)
    hot = _ids(srv, "hot", 30)
    s = srv.subscribe("quiet", headers={"Last-Event-ID": before})
    got = s.events(2)
    assert [e["event"] for e in got] == ["message", "message"]
    assert [e["id"] for e in got] == quiet
    live = srv.publish({"topic": "quiet", "data": "live"}).json()["id"]
    assert s.next_event()["id"] == live
    s.close()
    # The busy topic itself did lose its oldest ten.
    h = srv.subscribe("hot", headers={"Last-Event-ID": before})
    assert h.next_event()["event"] == "ssecast.history-lost"
    assert [e["id"] for e in h.events(20)] == hot[10:]
    h.close()


def test_a_prefix_resume_reads_the_topics_under_it(make_server):
    srv = make_server(env={"SSECAST_HISTORY_MAX_EVENTS": "20"}).start()
    before = srv.publish({"topic": "elsewhere", "data": "x"}).json()["id"]
    one = srv.publish({"topic": "orders/1", "data": 1}).json()["id"]
    srv.publish({"topic": "ordersx", "data": "not under the prefix"})
    two = srv.publish({"topic": "orders/eu/2", "data": 2}).json()["id"]
    _ids(srv, "hot", 30)
    s = srv.subscribe("orders/*", headers={"Last-Event-ID": before})
    got = s.events(2)
    assert [(e["event"], e["id"]) for e in got] == [("message", one), ("message", two)]
    live = srv.publish({"topic": "orders/3", "data": 3}).json()["id"]
    assert s.next_event()["id"] == live
    s.close()


def test_max_total_events_evicts_from_the_largest_topic(make_server):
    srv = make_server(env={"SSECAST_HISTORY_MAX_TOTAL_EVENTS": "10"}).start()
    before = srv.publish({"topic": "elsewhere", "data": "x"}).json()["id"]
    # elsewhere (1) + a (4) + b (10) = 15 > 10: b, the largest, gives up its oldest five.
    a = _ids(srv, "a", 4)
    b = _ids(srv, "b", 10)
    s = srv.subscribe("a", headers={"Last-Event-ID": before})
    assert [(e["event"], e["id"]) for e in s.events(4)] == [("message", i) for i in a]
    s.close()
    s = srv.subscribe("b", headers={"Last-Event-ID": before})
    assert s.next_event()["event"] == "ssecast.history-lost"
    assert [e["id"] for e in s.events(5)] == b[5:]
    s.close()
    s = srv.subscribe("b", headers={"Last-Event-ID": b[4]})  # nothing after it is gone
    assert [(e["event"], e["id"]) for e in s.events(5)] == [("message", i) for i in b[5:]]
    s.close()


def test_an_idle_topic_ages_out_without_new_events(make_server):
    """The once-a-second trim, not only a publish, expires history (max_age 1 s)."""
    srv = make_server(env={"SSECAST_HISTORY_MAX_AGE_SECONDS": "1"}).start()
    before = srv.publish({"topic": "elsewhere", "data": "x"}).json()["id"]
    srv.publish({"topic": "idle", "data": "old"})
    time.sleep(2.5)
    s = srv.subscribe("idle", headers={"Last-Event-ID": before})
    assert s.next_event()["event"] == "ssecast.history-lost"
    live = srv.publish({"topic": "idle", "data": "new"}).json()["id"]
    assert s.next_event()["id"] == live
    s.close()
