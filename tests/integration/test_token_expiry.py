# SPDX-License-Identifier: MIT
# SPEC §Expiry on open streams: when the token's exp passes, the stream ends with
# `event: ssecast.token-expired` (data {}), no event published after exp reaches it, and a
# client that reconnects with a fresh token and Last-Event-ID loses nothing. Memory and
# redis mode; public-key tokens too.
import json
import time

from auth_support import Key
from conftest import make_token


def expiring_token(sub, seconds, **kw):
    return make_token(sub, exp=int(time.time()) + seconds, **kw)


def check_expiry(publisher, subscriber_srv, token_for):
    """Opens a stream whose token expires in 2 s, publishes before and after exp, and checks
    the end of the stream and the resume."""
    exp = int(time.time()) + 2
    s = subscriber_srv.subscribe("news", headers={"Authorization": f"Bearer {token_for(exp)}"})
    assert s.status == 200
    first = publisher.publish({"topic": "news", "data": "before exp"}).json()["id"]
    assert s.next_event()["data"] == "before exp"
    # Publish just after exp, before the shard's sweep (≤ 1 s later) can end the stream.
    time.sleep(max(0.0, exp - time.time()) + 0.05)
    late = publisher.publish({"topic": "news", "data": "after exp"}).json()["id"]
    end = s.next_event(timeout=5)
    assert end == {"id": None, "event": "ssecast.token-expired", "data": "{}"}, end
    assert s.wait_closed(timeout=5)
    ended_at = time.time()
    assert ended_at - exp < 3  # ended by the sweep, not by a heartbeat or the client
    s.close()
    # The client comes back with a fresh token and the last id it saw: the event it missed
    # arrives, nothing twice.
    fresh = subscriber_srv.subscribe("news", headers={
        "Authorization": f"Bearer {token_for(int(time.time()) + 60)}", "Last-Event-ID": first})
    assert fresh.status == 200
    got = fresh.next_event()
    assert (got["id"], got["data"]) == (late, "after exp")
    fresh.close()


def test_memory_stream_ends_at_exp_with_token_expired(make_server):
    srv = make_server(env={"SSECAST_SSE_HEARTBEAT_SECONDS": "30"}).start()
    assert srv.metric("ssecast_streams_expired_total") == 0
    check_expiry(srv, srv, lambda exp: make_token("alice", exp=exp))
    assert srv.metric("ssecast_streams_expired_total") == 1


def test_public_key_token_expiry_ends_the_stream_too(make_server, tmp_path):
    key = Key("ES256", "ec-exp")
    path = tmp_path / "jwks.json"
    path.write_text(json.dumps({"keys": [key.jwk()]}))
    srv = make_server(env={"SSECAST_AUTH_JWKS_FILE": str(path)}).start()
    check_expiry(srv, srv, lambda exp: key.token("carol", exp=exp))


def test_streams_without_exp_or_with_a_later_exp_go_on(make_server):
    srv = make_server().start()
    never = srv.subscribe("news", headers={"Authorization": f"Bearer {make_token('a')}"})
    later = srv.subscribe("news",
                          headers={"Authorization": f"Bearer {expiring_token('b', 60)}"})
    soon = srv.subscribe("news", headers={"Authorization": f"Bearer {expiring_token('c', 1)}"})
    assert soon.next_event(timeout=5)["event"] == "ssecast.token-expired"
    srv.publish({"topic": "news", "data": "still here"})
    assert never.next_event()["data"] == "still here"
    assert later.next_event()["data"] == "still here"
    for s in (never, later, soon):
        s.close()


def test_redis_stream_ends_at_exp_with_token_expired(pair):
    a, b = pair.servers
    check_expiry(a, b, lambda exp: make_token("dave", exp=exp))
