# SPDX-License-Identifier: MIT
# The round trip a newcomer tries first: subscribe, publish, receive.
def test_publish_reaches_subscriber(server):
    stream = server.subscribe("demo")
    assert stream.status == 200
    r = server.publish({"topic": "demo", "type": "greet", "data": {"hello": "world"}})
    assert r.status_code == 200, r.text
    event = stream.next_event()
    assert event == {"id": r.json()["id"], "event": "greet", "data": '{"hello":"world"}'}
    stream.close()
