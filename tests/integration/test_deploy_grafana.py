# SPDX-License-Identifier: MIT
# Deploy kit (#19): the Grafana dashboard asks only for metrics (and labels) that the real
# binary's /metrics exposes, and shows what the issue lists, per instance and summed.
import json
import re

import requests

from conftest import ROOT

DASHBOARD = ROOT / "deploy" / "grafana" / "ssecast.json"
PROMQL_WORDS = {"by", "without", "on", "ignoring", "group_left", "group_right", "bool",
                "offset", "and", "or", "unless", "inf", "nan"}


def expressions(dash):
    """Every PromQL expression of the dashboard: panel targets and templating queries."""
    out = []
    for panel in dash["panels"]:
        out += [t["expr"] for t in panel.get("targets", [])]
    for var in dash["templating"]["list"]:
        if var["type"] == "query":
            q = var["query"]["query"] if isinstance(var["query"], dict) else var["query"]
            m = re.fullmatch(r"label_values\((.*),\s*(\w+)\)", q)
            assert m, q
            out.append(m.group(1))
    return out


def selectors(expr):
    """[(metric, {label names})] of every series selector in `expr`."""
    found = []
    text = re.sub(r'"(?:[^"\\]|\\.)*"', '""', expr)          # string literals
    text = re.sub(r"\[[^\]]*\]", "", text)                      # range durations
    text = re.sub(r"\b(by|without|on|ignoring)\s*\([^)]*\)", "", text)
    for m in re.finditer(r"([A-Za-z_:][\w:]*)\s*(\{[^}]*\})?", text):
        name, braces = m.group(1), m.group(2) or ""
        rest = text[m.end():]
        if rest.lstrip().startswith("(") and not braces:
            continue                                            # a function
        if name in PROMQL_WORDS or re.fullmatch(r"\d.*", name):
            continue
        labels = set(re.findall(r"(\w+)\s*(?:=~|!~|!=|=)", braces))
        found.append((name, labels))
    return found


def exposed(text):
    """{sample name: {label names}} of a Prometheus text exposition."""
    out = {}
    for line in text.splitlines():
        if not line or line.startswith("#"):
            continue
        m = re.match(r"([A-Za-z_:][\w:]*)(\{([^}]*)\})?\s", line)
        assert m, line
        labels = set(re.findall(r'(\w+)="', m.group(3) or ""))
        out.setdefault(m.group(1), set()).update(labels)
    return out


def test_dashboard_metrics_are_the_ones_metrics_exposes(server):
    dash = json.loads(DASHBOARD.read_text())
    metrics = exposed(requests.get(server.url + "/metrics", timeout=5).text)
    # Prometheus adds these to every scraped series.
    target_labels = {"job", "instance"}
    used = set()
    for expr in expressions(dash):
        sel = selectors(expr)
        assert sel, f"no metric in {expr!r}"
        for name, labels in sel:
            assert name in metrics, f"{name} (in {expr!r}) is not exposed by /metrics"
            unknown = labels - metrics[name] - target_labels
            assert not unknown, f"{name} has no label {unknown} (in {expr!r})"
            used.add(name)
    # The check itself notices a wrong name.
    assert selectors('sum(rate(ssecast_nope_total{job=~"$job"}[5m]))') == \
        [("ssecast_nope_total", {"job"})]
    # What the issue asks the dashboard to show.
    for name in ("ssecast_connections", "ssecast_connects_total", "ssecast_disconnects_total",
                 "ssecast_events_published_total", "ssecast_events_delivered_total",
                 "ssecast_events_dropped_total", "ssecast_publish_to_write_seconds_bucket",
                 "ssecast_rate_limit_requests_total", "ssecast_redis_up",
                 "ssecast_rate_limit_fallback"):
        assert name in used, f"the dashboard does not show {name}"
    exprs = expressions(dash)
    for q in ("0.5", "0.99"):
        assert any(e.startswith(f"histogram_quantile({q}, sum by (le)") for e in exprs)
        assert any(e.startswith(f"histogram_quantile({q}, sum by (instance, le)") for e in exprs)
    assert any('outcome="limited"' in e for e in exprs)


def test_every_panel_shows_per_instance_and_summed():
    dash = json.loads(DASHBOARD.read_text())
    ids = [p["id"] for p in dash["panels"]]
    assert len(ids) == len(set(ids)), "panel ids must be unique"
    for panel in dash["panels"]:
        if panel["type"] != "timeseries":
            continue
        exprs = [t["expr"] for t in panel["targets"]]
        per_instance = any("instance" in t.get("legendFormat", "") for t in panel["targets"])
        summed = any(re.match(r"(sum|histogram_quantile\([0-9.]+, sum by \(le\))", e)
                     and "by (instance" not in e for e in exprs)
        assert per_instance and summed, panel["title"]
        assert all(t["datasource"]["uid"] == "${datasource}" for t in panel["targets"])
