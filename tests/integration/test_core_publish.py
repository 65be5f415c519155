# SPDX-License-Identifier: MIT
# POST /publish: bodies, ids, keys and claims, every refusal with its status.
import jwt
import requests

from conftest import JWT_SECRET


def parse_id(text):
    ms, seq = text.split("-")
    return int(ms), int(seq)


def test_single_and_array_bodies_get_increasing_ids(server):
    s = server.subscribe("t")
    one = server.publish({"topic": "t", "data": 1})
    assert one.status_code == 200
    many = server.publish([{"topic": "t", "data": i} for i in range(2, 6)])
    assert many.status_code == 200
    ids = [one.json()["id"], *many.json()["ids"]]
    assert [parse_id(i) for i in ids] == sorted(parse_id(i) for i in ids)
    assert len(set(ids)) == 5
    got = s.events(5)
    assert [e["id"] for e in got] == ids
    assert [e["data"] for e in got] == ["1", "2", "3", "4", "5"]
    s.close()


def test_ids_strictly_increase_under_concurrent_publishers(server):
    import concurrent.futures as cf
    s = server.subscribe("t")
    with cf.ThreadPoolExecutor(8) as pool:
        results = list(pool.map(lambda i: server.publish({"topic": "t", "data": i}), range(200)))
    assert all(r.status_code == 200 for r in results)
    received = [e["id"] for e in s.events(200)]
    assert [parse_id(i) for i in received] == sorted(parse_id(i) for i in received)
    assert sorted(received) == sorted(r.json()["id"] for r in results)
    s.close()


def test_data_and_type_cannot_inject(server):
    s = server.subscribe("t")
    evil = "x\n\nevent: evil\nid: 99999999999999-0\ndata: injected\r\n"
    assert server.publish({"topic": "t", "type": "ok", "data": evil}).status_code == 200
    assert server.publish({"topic": "t", "type": "a\nevent: b", "data": 1}).status_code == 400
    event = s.next_event()
    assert event["event"] == "ok"
    assert event["data"] == "x\n\nevent: evil\nid: 99999999999999-0\ndata: injected\n"
    server.publish({"topic": "t", "data": "next"})
    assert s.next_event()["data"] == "next"
    s.close()


def test_refusals(server):
    assert server.publish({"topic": "t", "data": 1}, key=None).status_code == 401
    assert server.publish({"topic": "t", "data": 1}, key="wrong").status_code == 401
    cases = [
        ("{not json", 400, "bad_json"),
        ('{"data": 1}', 400, "bad_topic"),
        ('{"topic": "a b", "data": 1}', 400, "bad_topic"),
        ('{"topic": "t", "data": 1, "extra": 2}', 400, "bad_request"),
        ('[]', 400, "bad_request"),
        ('{"topic": "t", "data": "' + "x" * 70_000 + '"}', 413, "payload_too_large"),
    ]
    for raw, status, code in cases:
        r = server.publish(None, raw=raw)
        assert r.status_code == status, raw[:40]
        assert r.json()["error"] == code
    big = requests.post(server.url + "/publish", data=b"x" * (2 << 20), timeout=10,
                        headers={"Authorization": "Bearer test-publish-key"})
    assert big.status_code == 413
    assert requests.get(server.url + "/publish", timeout=5).status_code == 405


def test_publish_claim(server):
    t = jwt.encode({"sub": "backend", "publish": ["orders/*"]}, JWT_SECRET, algorithm="HS256")
    assert server.publish({"topic": "orders/1", "data": 1}, key=t).status_code == 200
    r = server.publish({"topic": "users/1", "data": 1}, key=t)
    assert r.status_code == 403 and r.json()["error"] == "forbidden"
    no_claim = jwt.encode({"sub": "reader"}, JWT_SECRET, algorithm="HS256")
    assert server.publish({"topic": "orders/1", "data": 1}, key=no_claim).status_code == 403
