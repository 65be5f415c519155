# SPDX-License-Identifier: MIT
# SPEC §Resume: replay after Last-Event-ID, then live, no gap and no duplicate at the seam.
import threading
import time

from conftest import CheckedThread


def test_resume_by_header_and_query(server):
    ids = [server.publish({"topic": "t", "data": i}).json()["id"] for i in range(5)]
    server.publish({"topic": "other", "data": "x"})
    for kw in [{"headers": {"Last-Event-ID": ids[1]}}, {"query": f"lastEventId={ids[1]}"},
               {"query": f"last_event_id={ids[1]}"}]:
        s = server.subscribe("t", **kw)
        got = s.events(len(ids) - 2)
        assert [e["id"] for e in got] == ids[2:]
        live = server.publish({"topic": "t", "data": "live"}).json()["id"]
        assert s.next_event()["id"] == live
        ids.append(live)
        s.close()


def test_resume_replays_only_what_the_subscription_may_see(server):
    first = server.publish({"topic": "a", "data": 0}).json()["id"]
    server.publish({"topic": "a", "data": "secret", "users": ["someone-else"]})
    server.publish({"topic": "b", "data": "b"})
    server.publish({"topic": "a/x", "data": "ax"})
    s = server.subscribe("a", "a/*", headers={"Last-Event-ID": first})
    assert [e["data"] for e in s.events(1)] == ["ax"]
    s.close()


def test_unknown_or_expired_id_gives_history_lost(make_server):
    srv = make_server(env={"SSECAST_HISTORY_MAX_EVENTS": "3"}).start()
    ids = [srv.publish({"topic": "t", "data": i}).json()["id"] for i in range(6)]
    s = srv.subscribe("t", headers={"Last-Event-ID": ids[0]})
    lost = s.next_event()
    assert lost["event"] == "ssecast.history-lost"
    assert lost["data"] == '{"lastEventId":"%s"}' % ids[0]
    assert [e["id"] for e in s.events(3)] == ids[3:]
    s.close()
    # Within what is kept: no history-lost.
    ok = srv.subscribe("t", headers={"Last-Event-ID": ids[3]})
    assert [e["id"] for e in ok.events(2)] == ids[4:]
    ok.close()
    garbage = srv.subscribe("t", headers={"Last-Event-ID": "not-an-id"})
    assert garbage.next_event()["event"] == "ssecast.history-lost"
    garbage.close()


def test_id_from_before_a_restart_is_history_lost(make_server):
    srv = make_server().start()
    old = srv.publish({"topic": "t", "data": 1}).json()["id"]
    srv.stop()
    srv2 = make_server(port=srv.port).start()
    new = srv2.publish({"topic": "t", "data": 2}).json()["id"]
    assert tuple(map(int, new.split("-"))) > tuple(map(int, old.split("-")))
    s = srv2.subscribe("t", headers={"Last-Event-ID": old})
    assert s.next_event()["event"] == "ssecast.history-lost"
    assert s.next_event()["id"] == new
    s.close()


def test_reconnect_seam_under_continuous_publishing(server):
    """A publisher never stops while a client disconnects and resumes ten times: the client
    sees every event exactly once, in order."""
    published = []
    stop = threading.Event()

    def publisher():
        i = 0
        while not stop.is_set() and i < 5000:
            r = server.publish({"topic": "seq", "data": i})
            assert r.status_code == 200
            published.append(r.json()["id"])
            i += 1

    t = CheckedThread(publisher)  # a failed publish fails the test at join()
    seen = []
    s = server.subscribe("seq")
    t.start()
    try:
        for _ in range(10):
            for _ in range(20):
                seen.append(s.next_event()["id"])
            s.close()
            time.sleep(0.01)
            s = server.subscribe("seq", headers={"Last-Event-ID": seen[-1]})
    finally:
        stop.set()
        t.join(timeout=30)
    # Drain what is left up to the last published id.
    last = published[-1]
    while seen[-1] != last:
        e = s.next_event()
        assert e["event"] != "ssecast.history-lost"
        seen.append(e["id"])
    s.close()
    assert seen == published[: len(seen)]
    assert len(seen) == len(set(seen)) == len(published)
