# SPDX-License-Identifier: MIT
# SPEC §POST /api/admin/disconnect: by user or by connection, `event: ssecast.disconnected`
# before the close, {"disconnected": N}, block_seconds → 403 `blocked`; in redis mode on
# every instance, N summed, the block shared (also with an instance started later).
import time

import pytest
import requests

from conftest import ADMIN_TOKEN, make_token, wait_until
from redis_support import assert_no_more_events


def disconnect(srv, body, token=ADMIN_TOKEN):
    return requests.post(srv.url + "/api/admin/disconnect", json=body,
                         headers={"Authorization": f"Bearer {token}"}, timeout=10)


def stream(srv, user, topic="news"):
    s = srv.subscribe(topic, headers={"Authorization": f"Bearer {make_token(user)}"})
    assert s.status == 200
    return s


def assert_disconnected(s):
    assert s.next_event(timeout=5) == {"id": None, "event": "ssecast.disconnected", "data": "{}"}
    assert s.wait_closed(timeout=5)


def test_disconnect_a_user_ends_only_its_streams(make_server):
    srv = make_server(env={"SSECAST_REDIS_INSTANCE_ID": "solo"}).start()
    bob1, bob2, alice = stream(srv, "bob"), stream(srv, "bob", "other"), stream(srv, "alice")
    # What was published before the order still arrives, before the notice.
    srv.publish({"topic": "news", "data": "before"})
    assert bob1.next_event()["data"] == "before"
    r = disconnect(srv, {"user": "bob"})
    assert r.status_code == 200, r.text
    assert r.json() == {"disconnected": 2}
    assert_disconnected(bob1)
    assert_disconnected(bob2)
    assert srv.metric("ssecast_streams_disconnected_total") == 2
    srv.publish({"topic": "news", "data": "after"})
    assert alice.next_event()["data"] == "before"
    assert alice.next_event()["data"] == "after"
    # Without block_seconds bob may come straight back; nobody left to cut is 0.
    again = stream(srv, "bob")
    again.close()
    wait_until(lambda: disconnect(srv, {"user": "nobody"}).json() == {"disconnected": 0})
    alice.close()


def monitor_connections(srv, user):
    r = srv.admin(f"/api/admin/sse-monitor?user={user}")
    assert r.status_code == 200, r.text
    return r.json()["connections"]


def test_disconnect_one_connection_named_by_the_monitor(make_server):
    srv = make_server(env={"SSECAST_REDIS_INSTANCE_ID": "solo"}).start()
    first = srv.subscribe("news", "orders/*",
                          headers={"Authorization": f"Bearer {make_token('bob')}"})
    second = stream(srv, "bob")
    stream(srv, "alice").close()
    conns = monitor_connections(srv, "bob")
    assert [c["id"] for c in conns] == ["solo:1", "solo:2"]  # oldest first
    assert conns[0]["userId"] == "bob" and conns[0]["topics"] == ["news", "orders/*"]
    assert conns[0]["sinceUnixMs"] <= conns[1]["sinceUnixMs"]
    assert "connections" not in srv.admin().json()  # only when asked for a user
    assert disconnect(srv, {"connection": conns[0]["id"]}).json() == {"disconnected": 1}
    assert_disconnected(first)
    wait_until(lambda: [c["id"] for c in monitor_connections(srv, "bob")] == ["solo:2"])
    assert disconnect(srv, {"connection": "other-instance:2"}).json() == {"disconnected": 0}
    srv.publish({"topic": "news", "data": "still"})
    assert second.next_event()["data"] == "still"
    second.close()


def test_block_seconds_refuses_new_subscriptions_then_lets_them_in(make_server):
    srv = make_server().start()
    bob = stream(srv, "bob")
    assert disconnect(srv, {"user": "bob", "block_seconds": 2}).json() == {"disconnected": 1}
    assert_disconnected(bob)
    refused = srv.subscribe("news", headers={"Authorization": f"Bearer {make_token('bob')}"})
    assert refused.status == 403
    assert refused.body()["error"] == "blocked"
    refused.close()
    assert stream(srv, "carol").status == 200  # others are not affected
    time.sleep(2.2)
    stream(srv, "bob").close()


@pytest.mark.parametrize("body", [
    {}, {"user": ""}, {"user": 42}, {"user": "a", "connection": "b"}, {"user": "x" * 257},
    {"connection": "solo:1", "block_seconds": 5}, {"user": "a", "block_seconds": -1},
    {"user": "a", "block_seconds": "5"}, {"user": "a", "block_seconds": 1.5},
    {"user": "a", "extra": 1}, [], "user",
])
def test_bad_bodies_are_400(server, body):
    r = disconnect(server, body)
    assert r.status_code == 400, (body, r.text)
    assert r.json()["error"] == "bad_request"


def test_only_admins_may_disconnect(server):
    bob = stream(server, "bob")
    for token in ["nope", make_token("bob"), make_token("bob", publish=["*"])]:
        assert disconnect(server, {"user": "bob"}, token=token).status_code == 401
    assert disconnect(server, {"user": "bob"}, token=make_token("root", admin=True)).json() == \
        {"disconnected": 1}
    assert requests.get(server.url + "/api/admin/disconnect", timeout=5).status_code == 405
    r = requests.post(server.url + "/api/admin/disconnect", data="{", timeout=5,
                      headers={"Authorization": f"Bearer {ADMIN_TOKEN}"})
    assert r.status_code == 400 and r.json()["error"] == "bad_json"
    bob.close()


def test_redis_disconnect_and_block_reach_every_instance(pair):
    a, b = pair.servers
    on_a, on_b, carol = stream(a, "bob"), stream(b, "bob"), stream(b, "carol")
    r = disconnect(a, {"user": "bob", "block_seconds": 4})
    assert r.status_code == 200, r.text
    assert r.json() == {"disconnected": 2}
    assert_disconnected(on_a)
    assert_disconnected(on_b)
    for srv in (a, b):
        refused = srv.subscribe("news", headers={"Authorization": f"Bearer {make_token('bob')}"})
        assert refused.status == 403 and refused.body()["error"] == "blocked"
        refused.close()
    # The block is in Redis with its expiry: an instance started afterwards refuses too.
    until_ms = float(pair.redis.cli("ZSCORE", "ssecast:blocks", "bob"))
    assert 3000 < until_ms - time.time() * 1000 <= 4100
    late = pair.make(2)
    pair.servers.append(late)
    wait_until(lambda: requests.get(late.url + "/readyz", timeout=1).status_code == 200)
    refused = late.subscribe("news", headers={"Authorization": f"Bearer {make_token('bob')}"})
    assert refused.status == 403
    refused.close()
    a.publish({"topic": "news", "data": "carol stays"})
    assert carol.next_event()["data"] == "carol stays"
    # After the block, bob is welcome everywhere again.
    time.sleep(max(0.0, until_ms / 1000 - time.time()) + 0.2)
    for srv in (a, b, late):
        stream(srv, "bob").close()
    carol.close()


def test_redis_disconnect_one_connection_on_another_instance(pair):
    a, b = pair.servers
    target = stream(b, "bob")
    time.sleep(0.01)  # a later sinceUnixMs for the second one
    other = stream(b, "bob")
    # The monitor of instance i0 lists bob's streams on i1 (from the registry in Redis).
    conns = wait_until(lambda: len(monitor_connections(a, "bob")) == 2 and
                       monitor_connections(a, "bob"), what="the registry flush")
    ids = [c["id"] for c in conns]
    assert all(i.startswith("i1:") for i in ids)
    assert disconnect(a, {"connection": ids[0]}).json() == {"disconnected": 1}
    assert_disconnected(target)
    b.publish({"topic": "news", "data": "other stays"})
    assert other.next_event()["data"] == "other stays"
    assert_no_more_events(other, wait=0.3)
    other.close()


def test_redis_down_disconnect_is_503(pair):
    a, _ = pair.servers
    pair.redis.stop()
    wait_until(lambda: disconnect(a, {"user": "bob"}).status_code == 503, timeout=15)
