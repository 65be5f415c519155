# SPDX-License-Identifier: MIT
# /api/admin/sse-monitor (schema, auth, limit), its SSE stream, and /metrics parsed by the
# Prometheus client library's own text parser.
import time

import requests
from prometheus_client.parser import text_string_to_metric_families

from conftest import make_token, ADMIN_TOKEN, SSEStream




def check_schema(doc):
    assert set(doc) >= {"handler", "instanceId", "uptimeSeconds", "local", "global", "perUser",
                        "instances", "redis", "events"}
    assert isinstance(doc["instanceId"], str) and doc["instanceId"]
    assert isinstance(doc["uptimeSeconds"], int)
    assert set(doc["local"]) == {"connections", "uniqueUsers"}
    assert set(doc["global"]) == {"connections", "uniqueUsers", "instances"}
    assert set(doc["events"]) == {"published", "delivered", "dropped"}
    for u in doc["perUser"]:
        assert set(u) == {"userId", "connections"}
    for i in doc["instances"]:
        assert set(i) == {"instanceId", "connections", "lastSeenSeconds"}
    assert doc["redis"]["status"] in {"disabled", "connected", "disconnected"}


def test_monitor_requires_admin(server):
    assert requests.get(server.url + "/api/admin/sse-monitor", timeout=5).status_code == 401
    assert server.admin(token="wrong").status_code == 401
    assert server.admin(token=make_token("eve")).status_code == 401
    assert server.admin(token=make_token("root", admin=True)).status_code == 200
    s = SSEStream(server, [], path="/api/admin/sse-monitor/stream")
    assert s.status == 401
    s.close()


def test_monitor_memory_mode_document(server):
    streams = [server.subscribe("t", headers={"Authorization": "Bearer " + make_token(u)})
               for u in ["a", "a", "a", "b", "b", "c"]]
    assert all(s.status == 200 for s in streams)
    server.publish({"topic": "t", "data": 1})
    for s in streams:
        s.next_event()
    doc = server.admin().json()
    check_schema(doc)
    assert doc["handler"] == "memory"
    assert doc["redis"] == {"status": "disabled"}
    assert doc["local"] == {"connections": 6, "uniqueUsers": 3}
    assert doc["global"] == {"connections": 6, "uniqueUsers": 3, "instances": 1}
    assert doc["perUser"] == [{"userId": "a", "connections": 3}, {"userId": "b", "connections": 2},
                              {"userId": "c", "connections": 1}]
    assert doc["instances"][0]["instanceId"] == doc["instanceId"]
    assert doc["instances"][0]["connections"] == 6
    assert doc["events"] == {"published": 1, "delivered": 6, "dropped": 0}
    limited = requests.get(server.url + "/api/admin/sse-monitor?limit=1", timeout=5,
                           headers={"Authorization": f"Bearer {ADMIN_TOKEN}"}).json()
    assert limited["perUser"] == [{"userId": "a", "connections": 3}]
    for s in streams:
        s.close()


def test_stats_stream_once_per_second(server):
    s = SSEStream(server, [], path="/api/admin/sse-monitor/stream",
                  headers={"Authorization": f"Bearer {ADMIN_TOKEN}"})
    assert s.status == 200
    import json
    first = s.next_event()
    t0 = time.monotonic()
    events = [first] + s.events(3, timeout=5)
    elapsed = time.monotonic() - t0
    assert all(e["event"] == "stats" for e in events)
    check_schema(json.loads(events[-1]["data"]))
    assert 2.0 <= elapsed <= 5.0  # three more documents, about a second apart
    s.close()


def test_metrics_parse_with_prometheus_parser(server):
    s = server.subscribe("t")
    server.publish({"topic": "t", "data": 1})
    s.next_event()
    text = requests.get(server.url + "/metrics", timeout=5).text
    families = {f.name: f for f in text_string_to_metric_families(text)}
    for name in ["ssecast_connections", "ssecast_connects", "ssecast_events_published",
                 "ssecast_events_delivered", "ssecast_events_dropped", "ssecast_bytes_written",
                 "ssecast_rate_limit_requests", "ssecast_redis_up",
                 "ssecast_publish_to_write_seconds"]:
        assert name in families, name
    assert families["ssecast_publish_to_write_seconds"].type == "histogram"
    samples = {s.name: s.value for s in families["ssecast_events_published"].samples}
    assert samples["ssecast_events_published_total"] == 1
    s.close()
