#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
# Redis mode at scale (issue #13), side by side in one run on this machine:
#  throughput  publish throughput at a full history (every topic at history.max_events),
#              3 redis-mode ssecast instances vs 3 nginx + nchan on the same Redis vs one
#              memory-mode ssecast; same load tool (ssecast-bench: unpaced, 8 keep-alive
#              publishers spread over the instances, subscribers spread over them); Redis
#              CPU per event (INFO cpu) and the CPU of a 4th instance with no client.
#  topics      Redis CPU per event with 2,000 topics, each at history.max_events, from 8
#              publishers; topics64 the same from 64 (more events per group commit).
#  latency     2,000 subscribers x 20 events/s: memory mode vs two redis-mode instances
#              (publish on one, every subscriber on the other).
#  replicas    what redis.min_replicas = 1 costs (issue #15): a master with one replica,
#              3 instances, the throughput load and its publish round trip with
#              min_replicas 0 and 1, side by side.
#  storm       5,000 resuming clients on 1,000 topics: their instance is killed (-9) while
#              events keep coming; all reconnect at once to another instance with
#              Last-Event-ID. Time until all are answered and caught up, Redis CPU, loss.
# With build/redis-floor/ssecast (bench/redis_floor.sh: a publish script that stores
# nothing), throughput and topics[64] also run that floor build on the same load, so the
# figures can be read against what the redis-mode path costs without any history.
# Prints one JSON line per run and a markdown summary (for docs/performance.md).
# Usage: bench/redis_scale.py [--quick] [--only NAME[,NAME]] [--bench PATH] [--floor PATH]
import argparse
import asyncio
import contextlib
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "tests", "integration"))
import requests  # noqa: E402

from conftest import (PUBLISH_KEY, RedisServer, Server, free_port, make_token,  # noqa: E402
                      wait_until)

TOKEN = make_token("bench")
FLOOR = os.path.join(HERE, "..", "build", "redis-floor", "ssecast")


@contextlib.contextmanager
def ssecast_binary(path):
    """Servers started inside run `path` (conftest's Server reads SSECAST_BIN)."""
    old = os.environ.get("SSECAST_BIN")
    os.environ["SSECAST_BIN"] = path
    try:
        yield
    finally:
        if old is None:
            del os.environ["SSECAST_BIN"]
        else:
            os.environ["SSECAST_BIN"] = old


def cpu_seconds(pid):
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def redis_cpu(redis):
    info = dict(line.split(":", 1) for line in redis.cli("INFO", "cpu").splitlines()
                if ":" in line)
    return float(info["used_cpu_user"]) + float(info["used_cpu_sys"])


def ssecast_instances(redis, n, env):
    base = {"SSECAST_SSE_HEARTBEAT_SECONDS": "15", "SSECAST_LIMITS_MAX_CONNECTIONS": "100000",
            "SSECAST_LIMITS_MAX_CONNECTIONS_PER_USER": "100000", "SSECAST_LOG_LEVEL": "warn"}
    base.update(env)
    out = []
    for i in range(n):
        e = dict(base)
        if redis is not None:
            e.update({"SSECAST_REDIS_URL": redis.url, "SSECAST_REDIS_INSTANCE_ID": f"b{i}"})
        out.append(Server(env=e).start())
    for s in out:
        wait_until(lambda: requests.get(s.url + "/readyz", timeout=1).status_code == 200,
                   timeout=20, what="ready")
    return out


class Nchan:
    """One nginx + nchan (one worker) storing in Redis."""

    def __init__(self, redis, buffer):
        self.port = free_port()
        self.dir = tempfile.mkdtemp(prefix="nchan-")
        os.makedirs(f"{self.dir}/logs")
        conf = f"""
load_module /usr/lib/nginx/modules/ngx_nchan_module.so;
worker_processes 1;
worker_rlimit_nofile 20000;
pid {self.dir}/nginx.pid;
error_log {self.dir}/logs/error.log warn;
events {{ worker_connections 20000; }}
http {{
  access_log off;
  client_body_temp_path {self.dir}/body; proxy_temp_path {self.dir}/proxy;
  fastcgi_temp_path {self.dir}/fcgi; uwsgi_temp_path {self.dir}/uwsgi;
  scgi_temp_path {self.dir}/scgi;
  keepalive_requests 1000000;
  upstream redis_store {{ nchan_redis_server {redis.url}; }}
  server {{
    listen 127.0.0.1:{self.port};
    location = /pub {{ nchan_publisher; nchan_channel_id $arg_id; nchan_redis_pass redis_store;
                       nchan_message_buffer_length {buffer}; nchan_message_timeout 1h; }}
    location = /sub {{ nchan_subscriber eventsource; nchan_channel_id $arg_id;
                       nchan_redis_pass redis_store; }}
  }}
}}
"""
        with open(f"{self.dir}/nginx.conf", "w") as f:
            f.write(conf)
        self.proc = subprocess.Popen(["nginx", "-p", self.dir, "-c", f"{self.dir}/nginx.conf",
                                      "-g", "daemon off;"], stdout=subprocess.DEVNULL,
                                     stderr=subprocess.DEVNULL)
        wait_until(lambda: self._up(), timeout=10, what="nginx")
        time.sleep(0.3)
        self.worker = int(subprocess.run(["pgrep", "-P", str(self.proc.pid)], text=True,
                                         capture_output=True).stdout.split()[0])

    def _up(self):
        try:
            requests.get(f"http://127.0.0.1:{self.port}/pub?id=x", timeout=1)
            return True
        except requests.RequestException:
            return False

    def stop(self):
        self.proc.send_signal(signal.SIGTERM)
        self.proc.wait(timeout=10)
        shutil.rmtree(self.dir, ignore_errors=True)


def fill_ssecast(server, topics, per_topic):
    http = requests.Session()
    h = {"Authorization": f"Bearer {PUBLISH_KEY}"}
    batch = []
    for k in range(per_topic):
        for t in range(topics):
            batch.append({"topic": f"bench{t}", "data": "f" * 200})
            if len(batch) == 100:
                assert http.post(server.url + "/publish", json=batch, headers=h).ok
                batch = []
    if batch:
        assert http.post(server.url + "/publish", json=batch, headers=h).ok


def fill_nchan(n, topics, per_topic):
    http = requests.Session()
    for k in range(per_topic):
        for t in range(topics):
            assert http.post(f"http://127.0.0.1:{n.port}/pub?id=bench{t}", data="f" * 200).ok


def run_bench(bench, label, args):
    out = subprocess.run([bench, "--json", "--label", label, *args], capture_output=True,
                         text=True, timeout=600)
    line = out.stdout.strip().splitlines()[-1] if out.stdout.strip() else "{}"
    res = json.loads(line)
    print(json.dumps(res), flush=True)
    return res


def ssecast_urls(servers):
    args = []
    for s in servers:
        args += ["--sub-url", f"{s.url}/events?topic={{topic}}&access_token={TOKEN}"]
    for s in servers:
        args += ["--pub-url", f"{s.url}/publish"]
    return args + ["--pub-header", f"Authorization: Bearer {PUBLISH_KEY}"]


def redis3_throughput(bench, label, common, env, topics, per_topic):
    """3 redis-mode instances + a bystander with no client on a fresh Redis: the run, Redis
    CPU per event and the bystander's CPU per event."""
    redis = RedisServer().start()
    servers = ssecast_instances(redis, 4, {**env, "SSECAST_HTTP_THREADS": "1"})
    active, bystander = servers[:3], servers[3]
    fill_ssecast(active[0], topics, per_topic)
    rc0, bc0 = redis_cpu(redis), cpu_seconds(bystander.proc.pid)
    redis.cli("CONFIG", "RESETSTAT")
    r = run_bench(bench, label, common + ssecast_urls(active) +
                  ["--server-pid", ",".join(str(s.proc.pid) for s in active)])
    rc1, bc1 = redis_cpu(redis), cpu_seconds(bystander.proc.pid)
    calls = [line for line in redis.cli("INFO", "commandstats").splitlines()
             if line.startswith("cmdstat_evalsha:")]
    r["script_calls"] = int(calls[0].split("calls=")[1].split(",")[0]) if calls else 0
    for s in servers:
        s.stop()
    redis.stop()
    return (r, (rc1 - rc0) / max(r.get("published", 1), 1),
            (bc1 - bc0) / max(r.get("published", 1), 1))


def throughput(bench, quick, conns, floor):
    topics, per_topic, events = 10, 1000, 5000 if quick else 20000
    common = ["--subs", "10", "--topics", str(topics), "--events", str(events), "--rate", "0",
              "--bytes", "256", "--pub-conns", str(conns), "--duration", "120", "--drain", "5"]
    env = {"SSECAST_HISTORY_MAX_EVENTS": str(per_topic)}
    rows = {}
    # memory mode: one instance
    [m] = ssecast_instances(None, 1, env)
    fill_ssecast(m, topics, per_topic)
    r = run_bench(bench, f"throughput{conns}/memory", common + ssecast_urls([m]) +
                  ["--server-pid", str(m.proc.pid)])
    rows["memory"] = (r, None, None)
    m.stop()
    # ssecast redis mode: 3 instances + a bystander with no client; one thread each on this
    # 2-core box, as each nginx below has one worker (two threads each: 20% fewer events/s)
    rows["ssecast + Redis (3 instances)"] = redis3_throughput(
        bench, f"throughput{conns}/ssecast-redis3", common, env, topics, per_topic)
    if floor:
        with ssecast_binary(floor):
            rows["floor: ssecast storing nothing (3 instances)"] = redis3_throughput(
                bench, f"throughput{conns}/floor-redis3", common, env, topics, per_topic)
    # nchan + Redis: 3 nginx
    redis = RedisServer().start()
    ns = [Nchan(redis, per_topic) for _ in range(3)]
    fill_nchan(ns[0], topics, per_topic)
    args = []
    for n in ns:
        args += ["--sub-url", f"http://127.0.0.1:{n.port}/sub?id={{topic}}"]
    for n in ns:
        args += ["--pub-url", f"http://127.0.0.1:{n.port}/pub?id={{topic}}"]
    rc0 = redis_cpu(redis)
    r = run_bench(bench, f"throughput{conns}/nchan-redis3", common + args +
                  ["--pub-body-template", "{payload}",
                   "--server-pid", ",".join(str(n.worker) for n in ns)])
    rc1 = redis_cpu(redis)
    rows["nchan + Redis (3 nginx)"] = (r, (rc1 - rc0) / max(r.get("published", 1), 1), None)
    for n in ns:
        n.stop()
    redis.stop()
    return rows


def topics_cost(bench, quick, conns, label="topics/ssecast-redis3"):
    topics, events = 2000, 5000 if quick else 20000
    redis = RedisServer().start()
    servers = ssecast_instances(redis, 3, {"SSECAST_HISTORY_MAX_EVENTS": "5",
                                           "SSECAST_HTTP_THREADS": "1"})
    fill_ssecast(servers[0], topics, 5)
    # Redis CPU from the moment every subscriber's topic is subscribed at Redis (the bench
    # publishes 0.2 s later), so connecting 2,000 subscribers is not charged to the events.
    start = {}

    def mark():
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and len(
                redis.cli("PUBSUB", "CHANNELS", "*events:*").split()) < topics:
            time.sleep(0.02)
        start["cpu"] = redis_cpu(redis)

    marker = threading.Thread(target=mark)
    marker.start()
    r = run_bench(bench, label, [
        "--subs", "2000", "--topics", str(topics), "--events", str(events), "--rate", "0",
        "--bytes", "256", "--pub-conns", str(conns), "--duration", "120", "--drain", "5"] +
        ssecast_urls(servers) + ["--server-pid", ",".join(str(s.proc.pid) for s in servers)])
    rc1 = redis_cpu(redis)
    marker.join()
    for s in servers:
        s.stop()
    redis.stop()
    return r, (rc1 - start["cpu"]) / max(r.get("published", 1), 1)


def replicas_cost(bench, quick):
    topics, per_topic, events = 10, 1000, 5000 if quick else 20000
    common = ["--subs", "10", "--topics", str(topics), "--events", str(events), "--rate", "0",
              "--bytes", "256", "--pub-conns", "8", "--duration", "120", "--drain", "5"]
    master = RedisServer().start()
    replica = RedisServer(args=("--replicaof", "127.0.0.1", str(master.port))).start()
    wait_until(lambda: "state=online" in master.cli("INFO", "replication"), timeout=15,
               what="replica in sync")
    rows = {}
    for n in (0, 1):
        servers = ssecast_instances(master, 3, {"SSECAST_HISTORY_MAX_EVENTS": str(per_topic),
                                                "SSECAST_HTTP_THREADS": "1",
                                                "SSECAST_REDIS_MIN_REPLICAS": str(n)})
        fill_ssecast(servers[0], topics, per_topic)
        rows[n] = run_bench(bench, f"replicas/min_replicas={n}", common + ssecast_urls(servers) +
                            ["--server-pid", ",".join(str(s.proc.pid) for s in servers)])
        for s in servers:
            s.stop()
    replica.stop()
    master.stop()
    return rows


def latency(bench, quick):
    common = ["--subs", "2000", "--events", "100" if quick else "200", "--rate", "20",
              "--bytes", "256", "--duration", "90", "--drain", "10"]
    out = {}
    [m] = ssecast_instances(None, 1, {})
    out["memory"] = run_bench(bench, "latency/memory", common + ssecast_urls([m]) +
                              ["--server-pid", str(m.proc.pid)])
    m.stop()
    redis = RedisServer().start()
    a, b = ssecast_instances(redis, 2, {})
    args = ["--sub-url", f"{b.url}/events?topic={{topic}}&access_token={TOKEN}",
            "--pub-url", f"{a.url}/publish",
            "--pub-header", f"Authorization: Bearer {PUBLISH_KEY}"]
    out["redis2"] = run_bench(bench, "latency/redis2", common + args +
                              ["--server-pid", f"{a.proc.pid},{b.proc.pid}"])
    a.stop()
    b.stop()
    redis.stop()
    return out


# ---------------------------------------------------------------- reconnect storm
class Client:
    def __init__(self, topic):
        self.topic = topic
        self.ids = []
        self.reconnected_at = None
        self.answered_at = None


async def stream(client, host, port, last_id, stop, on_line_id):
    reader, writer = await asyncio.open_connection(host, port)
    hdr = f"Last-Event-ID: {last_id}\r\n" if last_id else ""
    writer.write((f"GET /events?topic={client.topic} HTTP/1.1\r\nHost: {host}\r\n"
                  f"Authorization: Bearer {TOKEN}\r\n{hdr}\r\n").encode())
    await writer.drain()
    status = await reader.readline()
    if b" 200 " not in status:
        writer.close()
        raise ConnectionError(status)
    while (await reader.readline()) not in (b"\r\n", b""):
        pass
    client.answered_at = time.monotonic()
    try:
        while not stop.is_set():
            line = await reader.readline()
            if not line:
                return
            if line.startswith(b"id: "):
                on_line_id(line[4:].strip().decode())
    finally:
        writer.close()


def id_key(i):
    a, b = i.split("-")
    return int(a), int(b)


async def storm_clients(clients, first, second, stop, killed):
    async def one(c):
        def seen(i):
            c.ids.append(i)  # duplicates are counted at the end
        try:
            await stream(c, "127.0.0.1", first.port, None, stop, seen)
        except (ConnectionError, OSError):
            pass
        if stop.is_set():
            return
        await killed.wait()
        c.reconnected_at = time.monotonic()
        for _ in range(50):
            try:
                await stream(c, "127.0.0.1", second.port, c.ids[-1] if c.ids else None, stop,
                             seen)
                return
            except (ConnectionError, OSError):
                await asyncio.sleep(0.2)
    await asyncio.gather(*(one(c) for c in clients))


def storm(quick):
    n_clients, n_topics = (2000, 400) if quick else (5000, 1000)
    redis = RedisServer().start()
    a, b = ssecast_instances(redis, 2, {"SSECAST_HTTP_THREADS": "2"})
    clients = [Client(f"storm{i % n_topics}") for i in range(n_clients)]
    published = {}  # topic -> ids in order
    pub_stop = threading.Event()
    loop = asyncio.new_event_loop()
    stop = asyncio.Event()
    killed = asyncio.Event()

    def publisher():
        http = requests.Session()
        h = {"Authorization": f"Bearer {PUBLISH_KEY}"}
        i = 0
        while not pub_stop.is_set():
            t = f"storm{i % n_topics}"
            r = http.post(b.url + "/publish", json={"topic": t, "data": i}, headers=h)
            if r.ok:
                published.setdefault(t, []).append(r.json()["id"])
            i += 1
            time.sleep(0.002)

    result = {}

    async def main():
        task = asyncio.ensure_future(storm_clients(clients, a, b, stop, killed))
        deadline = time.monotonic() + 60
        while sum(c.answered_at is not None for c in clients) < n_clients:
            assert time.monotonic() < deadline, "clients did not connect"
            await asyncio.sleep(0.1)
        # Every client gets a first event (its resume point), then the load runs.
        http = requests.Session()
        h = {"Authorization": f"Bearer {PUBLISH_KEY}"}
        for t in range(n_topics):
            r = http.post(b.url + "/publish", json={"topic": f"storm{t}", "data": "first"},
                          headers=h)
            published.setdefault(f"storm{t}", []).append(r.json()["id"])
        while any(not c.ids for c in clients):
            await asyncio.sleep(0.1)
        th = threading.Thread(target=publisher)
        th.start()
        await asyncio.sleep(2)
        for c in clients:
            c.answered_at = None
        rc0 = redis_cpu(redis)
        redis.cli("CONFIG", "RESETSTAT")
        t_kill = time.monotonic()
        a.kill()
        killed.set()
        while sum(c.answered_at is not None for c in clients) < n_clients:
            assert time.monotonic() < t_kill + 60, "clients did not come back"
            await asyncio.sleep(0.01)
        t_open = time.monotonic() - t_kill
        at_kill = {t: list(ids) for t, ids in published.items()}
        # Caught up: every client holds every event its topic had when it was answered.
        while True:
            behind = sum(1 for c in clients if c.ids and
                         id_key(c.ids[-1]) < id_key(at_kill[c.topic][-1]))
            if behind == 0 or time.monotonic() > t_kill + 60:
                break
            await asyncio.sleep(0.01)
        t_caught = time.monotonic() - t_kill
        rc1 = redis_cpu(redis)
        stats = redis.cli("INFO", "commandstats")
        subscribes = sum(int(line.split("calls=")[1].split(",")[0])
                         for line in stats.splitlines()
                         if line.startswith(("cmdstat_subscribe:", "cmdstat_psubscribe:")))
        await asyncio.sleep(2)
        pub_stop.set()
        th.join()
        await asyncio.sleep(2)
        stop.set()
        task.cancel()
        try:
            await task
        except asyncio.CancelledError:
            pass
        lost = dups = 0
        for c in clients:
            want = published[c.topic]
            start = want.index(c.ids[0])
            want = want[start:]
            got = c.ids
            dups += len(got) - len(set(got))
            lost += len(set(want) - set(got))
        result.update(clients=n_clients, topics=n_topics, open_s=round(t_open, 3),
                      caught_up_s=round(t_caught, 3), redis_cpu_s=round(rc1 - rc0, 3),
                      subscribe_commands=subscribes,
                      lost=lost, duplicates=dups,
                      events=sum(len(v) for v in published.values()))

    try:
        loop.run_until_complete(main())
    finally:
        pub_stop.set()
        b.stop()
        a.kill()
        redis.stop()
    print(json.dumps({"label": "storm", **result}), flush=True)
    return result


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--only",
                    default="throughput,throughput64,topics,topics64,replicas,latency,storm")
    ap.add_argument("--bench", default=os.path.join(HERE, "..", "build", "release", "bench",
                                                    "ssecast-bench"))
    ap.add_argument("--floor", default=FLOOR, help="floor build (bench/redis_floor.sh)")
    a = ap.parse_args()
    floor = a.floor if os.path.exists(a.floor) else None
    only = a.only.split(",")
    md = [f"`bench/redis_scale.py {' '.join(sys.argv[1:])}`".replace("`` ", "`"), ""]
    for name, conns in (("throughput", 8), ("throughput64", 64)):
        if name not in only:
            continue
        rows = throughput(a.bench, a.quick, conns, floor)
        md += [f"{conns} publisher connections:", "",
               "| system | events/s published | lost | publish RTT p50, µs | script calls | "
               "Redis CPU per event, µs | CPU per event of an instance with no client, µs |",
               "|---|---:|---:|---:|---:|---:|---:|"]
        for label, (r, rcpu, bcpu) in rows.items():
            eps = r.get("published", 0) / max(r.get("publish_s", 1e-9), 1e-9)
            md.append(f"| {label} | {eps:,.0f} | {r.get('lost')} | {r.get('publish_rtt_p50_us')}"
                      f" | {r.get('script_calls', '')}"
                      f" | {'' if rcpu is None else f'{rcpu * 1e6:.1f}'}"
                      f" | {'' if bcpu is None else f'{bcpu * 1e6:.2f}'} |")
        md.append("")
    for name, conns in (("topics", 8), ("topics64", 64)):
        if name not in only:
            continue
        runs = [("ssecast", topics_cost(a.bench, a.quick, conns, f"{name}/ssecast-redis3"))]
        if floor:
            with ssecast_binary(floor):
                runs.append(("floor: ssecast storing nothing",
                             topics_cost(a.bench, a.quick, conns, f"{name}/floor-redis3")))
        for system, (r, rcpu) in runs:
            eps = r.get("published", 0) / max(r.get("publish_s", 1e-9), 1e-9)
            md += [f"2,000 topics at history.max_events, {conns} publisher connections, "
                   f"{system}: {eps:,.0f} events/s, lost {r.get('lost')}, Redis CPU "
                   f"{rcpu * 1e6:.1f} µs per event.", ""]
    if "replicas" in only:
        rows = replicas_cost(a.bench, a.quick)
        md += ["| redis.min_replicas | events/s published | lost | publish RTT p50, µs | "
               "publish RTT p99, µs |", "|---:|---:|---:|---:|---:|"]
        for n, r in rows.items():
            eps = r.get("published", 0) / max(r.get("publish_s", 1e-9), 1e-9)
            md.append(f"| {n} | {eps:,.0f} | {r.get('lost')} | {r.get('publish_rtt_p50_us')} | "
                      f"{r.get('publish_rtt_p99_us')} |")
        md.append("")
    if "latency" in only:
        out = latency(a.bench, a.quick)
        md += ["| figure | memory | redis2 | redis2 − memory |", "|---|---:|---:|---:|"]
        for k in ("lost", "lat_p50_us", "lat_p99_us", "lat_max_us"):
            m, r = out["memory"].get(k, 0), out["redis2"].get(k, 0)
            md.append(f"| {k} | {m:,} | {r:,} | {r - m:,} |")
        md.append("")
    if "storm" in only:
        s = storm(a.quick)
        md += [f"Reconnect storm: {s['clients']:,} resuming clients on {s['topics']:,} topics: "
               f"all answered {s['open_s']} s after the kill, all caught up after "
               f"{s['caught_up_s']} s, Redis CPU {s['redis_cpu_s']} s meanwhile, "
               f"{s['subscribe_commands']} SUBSCRIBE commands for the {s['topics']:,} topics; "
               f"{s['events']:,} events published, lost {s['lost']}, duplicated "
               f"{s['duplicates']}.", ""]
    print("\n".join(md))


if __name__ == "__main__":
    main()
