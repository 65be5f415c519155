#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
# Soak test (issue #7 §5; not in CI): one ssecast instance (memory mode, or --redis for a
# redis-server + redis mode) under steady publishing and continuous connection churn for
# --minutes (default 10). Every --interval seconds (default 10) it samples the server's RSS
# (VmRSS), its open file descriptors (/proc/<pid>/fd), the open streams it reports, and the
# p50/p99 publish→receive latency seen by long-lived subscribers. Writes a CSV, plots it
# with bench/soak.gp (gnuplot) and prints a verdict: flat or growing.
#
#   /usr/bin/python3 bench/soak.py --minutes 10 --out build/soak            # memory mode
#   /usr/bin/python3 bench/soak.py --minutes 10 --redis --out build/soak-redis
#
# Latency is measured inside this one asyncio process (publish timestamp in the payload,
# monotonic clock), so it includes this client's own scheduling; on a shared box read it as
# an upper bound.
import argparse
import asyncio
import json
import os
import random
import shutil
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PUBLISH_KEY = "soak-publish-key"
JWT_SECRET = "soak-jwt-secret-0123456789abcdef"
TOPIC = "soak"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def jwt_for(sub: str) -> str:
    import jwt  # python3-jwt; only needed in redis mode (anonymous subscribers refused)
    return jwt.encode({"sub": sub}, JWT_SECRET, algorithm="HS256")


def percentile(sorted_values, p):
    if not sorted_values:
        return float("nan")
    k = min(len(sorted_values) - 1, max(0, round(p / 100 * (len(sorted_values) - 1))))
    return sorted_values[k]


class Soak:
    def __init__(self, args, port, pid):
        self.args = args
        self.port = port
        self.pid = pid
        self.latencies = []  # ms, since the last sample
        self.published = 0
        self.publish_errors = 0
        self.received = 0
        self.churn_connects = 0
        self.churn_errors = 0
        self.stream_errors = 0
        self.stop = asyncio.Event()
        self.auth = (lambda n: f"Authorization: Bearer {jwt_for(n)}\r\n") if args.redis \
            else (lambda n: "")

    # ---------------------------------------------------------------- HTTP by hand
    async def request_head(self, reader):
        head = await reader.readuntil(b"\r\n\r\n")
        status = int(head.split(b" ", 2)[1])
        length = 0
        for line in head.split(b"\r\n"):
            if line.lower().startswith(b"content-length:"):
                length = int(line.split(b":", 1)[1])
        return status, length

    async def open_stream(self, user, last_id=None):
        reader, writer = await asyncio.open_connection("127.0.0.1", self.port)
        extra = f"Last-Event-ID: {last_id}\r\n" if last_id else ""
        writer.write((f"GET /events?topic={TOPIC} HTTP/1.1\r\nHost: soak\r\n"
                      f"Accept: text/event-stream\r\n{self.auth(user)}{extra}\r\n").encode())
        await writer.drain()
        status, length = await self.request_head(reader)
        if status != 200:
            if length:
                await reader.readexactly(length)
            writer.close()
            raise ConnectionError(f"subscribe status {status}")
        return reader, writer

    # ---------------------------------------------------------------- load
    async def publisher(self):
        """--rate events/s, one POST each on a keep-alive connection."""
        period = 1.0 / self.args.rate
        conn = None
        next_at = time.monotonic()
        while not self.stop.is_set():
            next_at += period
            try:
                if conn is None:
                    conn = await asyncio.open_connection("127.0.0.1", self.port)
                reader, writer = conn
                body = json.dumps({"topic": TOPIC, "type": "tick",
                                   "data": {"t": time.monotonic(), "pad": "x" * 200}})
                writer.write((f"POST /publish HTTP/1.1\r\nHost: soak\r\n"
                              f"Authorization: Bearer {PUBLISH_KEY}\r\n"
                              f"Content-Type: application/json\r\n"
                              f"Content-Length: {len(body)}\r\n\r\n{body}").encode())
                await writer.drain()
                status, length = await self.request_head(reader)
                await reader.readexactly(length)
                if status == 200:
                    self.published += 1
                else:
                    self.publish_errors += 1
            except (OSError, asyncio.IncompleteReadError, ValueError):
                self.publish_errors += 1
                conn = None
            await asyncio.sleep(max(0.0, next_at - time.monotonic()))

    async def subscriber(self, n):
        """A long-lived stream measuring latency; resumes by id if it is ever cut."""
        last_id = None
        while not self.stop.is_set():
            try:
                reader, writer = await self.open_stream(f"steady{n}", last_id)
                while not self.stop.is_set():
                    frame = await reader.readuntil(b"\n\n")
                    now = time.monotonic()
                    data = None
                    for line in frame.split(b"\n"):
                        if line.startswith(b"id: "):
                            last_id = line[4:].decode()
                        elif line.startswith(b"data: "):
                            data = line[6:]
                    if data is not None:
                        self.received += 1
                        self.latencies.append((now - json.loads(data)["t"]) * 1000)
                writer.close()
            except (OSError, asyncio.IncompleteReadError, asyncio.LimitOverrunError,
                    ConnectionError):
                self.stream_errors += 1
                await asyncio.sleep(0.5)

    async def churner(self, n):
        """Open a stream, hold it 0-2 s, leave: a third close cleanly, a third reset (RST,
        SO_LINGER 0), a third resume from an id and then close; a few never read."""
        rnd = random.Random(n)
        last_id = None
        while not self.stop.is_set():
            kind = rnd.randrange(3)
            try:
                reader, writer = await self.open_stream(f"churn{n}",
                                                        last_id if kind == 2 else None)
                self.churn_connects += 1
                deadline = time.monotonic() + rnd.uniform(0, 2)
                while (left := deadline - time.monotonic()) > 0:
                    try:
                        frame = await asyncio.wait_for(reader.readuntil(b"\n\n"), left)
                    except asyncio.TimeoutError:
                        break
                    for line in frame.split(b"\n"):
                        if line.startswith(b"id: "):
                            last_id = line[4:].decode()
                if kind == 1:
                    sock = writer.get_extra_info("socket")
                    sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER,
                                    struct.pack("ii", 1, 0))
                writer.close()
            except (OSError, asyncio.IncompleteReadError, ConnectionError):
                self.churn_errors += 1
                await asyncio.sleep(0.2)
            await asyncio.sleep(rnd.uniform(0, 0.1))

    # ---------------------------------------------------------------- sampling
    def rss_kib(self):
        with open(f"/proc/{self.pid}/status") as f:
            return next(int(line.split()[1]) for line in f if line.startswith("VmRSS"))

    def fds(self):
        return len(os.listdir(f"/proc/{self.pid}/fd"))

    async def open_streams(self):
        try:
            reader, writer = await asyncio.open_connection("127.0.0.1", self.port)
            writer.write(b"GET /metrics HTTP/1.1\r\nHost: soak\r\nConnection: close\r\n\r\n")
            text = (await reader.read()).decode(errors="replace")
            writer.close()
            for line in text.splitlines():
                if line.startswith("ssecast_connections"):
                    return int(float(line.split()[-1]))
        except OSError:
            pass
        return -1

    async def sampler(self, csv_path):
        start = time.monotonic()
        end = start + self.args.minutes * 60
        with open(csv_path, "w") as out:
            out.write("t_s,rss_kib,fds,open_streams,p50_ms,p99_ms,published,received,"
                      "churn_connects,publish_errors,churn_errors,load1\n")
            while True:
                now = time.monotonic()
                lat = sorted(self.latencies)
                self.latencies = []
                row = (f"{now - start:.0f},{self.rss_kib()},{self.fds()},"
                       f"{await self.open_streams()},{percentile(lat, 50):.2f},"
                       f"{percentile(lat, 99):.2f},{self.published},{self.received},"
                       f"{self.churn_connects},{self.publish_errors},{self.churn_errors},"
                       f"{os.getloadavg()[0]:.2f}")
                out.write(row + "\n")
                out.flush()
                print(row, flush=True)
                if now >= end:
                    break
                await asyncio.sleep(min(self.args.interval, max(0.0, end - time.monotonic())))
        self.stop.set()

    async def run(self, csv_path):
        tasks = [asyncio.create_task(self.publisher())]
        tasks += [asyncio.create_task(self.subscriber(i)) for i in range(self.args.subscribers)]
        tasks += [asyncio.create_task(self.churner(i)) for i in range(self.args.churners)]
        await asyncio.sleep(1.0)  # first sample after the load has started
        await self.sampler(csv_path)
        for t in tasks:
            t.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)


def verdict(csv_path, warmup_s=60):
    rows = [line.split(",") for line in Path(csv_path).read_text().splitlines()[1:]]
    t = [float(r[0]) for r in rows]
    rss = [int(r[1]) for r in rows]
    fds = [int(r[2]) for r in rows]
    idx = [i for i, x in enumerate(t) if x >= warmup_s] or list(range(len(t)))
    tt = [t[i] for i in idx]
    rr = [rss[i] for i in idx]
    mean_t, mean_r = sum(tt) / len(tt), sum(rr) / len(rr)
    var = sum((x - mean_t) ** 2 for x in tt) or 1.0
    slope = sum((x - mean_t) * (y - mean_r) for x, y in zip(tt, rr)) / var  # KiB/s
    p50 = sorted(float(r[4]) for r in rows[1:] or rows)
    p99 = sorted(float(r[5]) for r in rows[1:] or rows)
    return {
        "samples": len(rows),
        "rss_kib_first_after_warmup": rr[0], "rss_kib_last": rss[-1],
        "rss_kib_min": min(rr), "rss_kib_max": max(rr),
        "rss_slope_kib_per_hour": round(slope * 3600, 1),
        "fds_min": min(fds[i] for i in idx), "fds_max": max(fds[i] for i in idx),
        "p50_ms_median_of_samples": percentile(p50, 50),
        "p99_ms_median_of_samples": percentile(p99, 50), "p99_ms_worst_sample": p99[-1],
        "published": int(rows[-1][6]), "received": int(rows[-1][7]),
        "churn_connects": int(rows[-1][8]), "publish_errors": int(rows[-1][9]),
        "churn_errors": int(rows[-1][10]),
        "load1_mean": round(sum(float(r[11]) for r in rows) / len(rows), 2),
    }


def main():
    ap = argparse.ArgumentParser(description="ssecast soak test (see the header comment)")
    ap.add_argument("--minutes", type=float, default=10)
    ap.add_argument("--interval", type=float, default=10, help="seconds between samples")
    ap.add_argument("--rate", type=float, default=50, help="published events per second")
    ap.add_argument("--subscribers", type=int, default=20, help="long-lived streams")
    ap.add_argument("--churners", type=int, default=20,
                    help="tasks opening and closing streams in a loop")
    ap.add_argument("--warmup", type=float, default=240,
                    help="seconds excluded from the RSS trend (history filling up)")
    ap.add_argument("--redis", action="store_true", help="run a redis-server, redis mode")
    ap.add_argument("--bin", default=os.environ.get("SSECAST_BIN",
                                                     str(ROOT / "build/release/ssecast")))
    ap.add_argument("--out", default=str(ROOT / "build/soak"), help="output folder")
    args = ap.parse_args()

    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    csv_path, png_path, log_path = out / "soak.csv", out / "soak.png", out / "ssecast.log"
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("SSECAST_")}
    env.update({"SSECAST_AUTH_PUBLISH_KEYS": PUBLISH_KEY, "SSECAST_AUTH_JWT_SECRET": JWT_SECRET,
                "SSECAST_LOG_LEVEL": "warn"})
    redis = None
    if args.redis:
        rport = free_port()
        redis = subprocess.Popen(
            ["redis-server", "--port", str(rport), "--bind", "127.0.0.1", "--save", "",
             "--appendonly", "no", "--dir", tempfile.mkdtemp(prefix="soak-redis-")],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        env["SSECAST_REDIS_URL"] = f"redis://127.0.0.1:{rport}"
    log = open(log_path, "w")
    server = subprocess.Popen([args.bin, "serve", "--listen", f"127.0.0.1:{port}"],
                              env=env, stdout=log, stderr=subprocess.STDOUT)
    try:
        for _ in range(100):  # bounded: 10 s
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                    break
            except OSError:
                if server.poll() is not None:
                    sys.exit(f"ssecast exited: see {log_path}")
                time.sleep(0.1)
        time.sleep(1.0 if args.redis else 0.2)
        print(f"soak: {args.minutes} min, {args.rate}/s published, {args.subscribers} "
              f"subscribers, {args.churners} churners, {'redis' if args.redis else 'memory'} "
              f"mode, pid {server.pid}", flush=True)
        asyncio.run(Soak(args, port, server.pid).run(csv_path))
        alive = server.poll() is None
    finally:
        server.send_signal(signal.SIGTERM)
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            server.kill()
        if redis:
            redis.terminate()
            redis.wait(timeout=10)
    # RSS grows until the history ring is full (history.max_events = 10,000 by default:
    # 200 s at 50/s); the leak verdict looks only at samples after that.
    result = verdict(csv_path, warmup_s=args.warmup)
    result["server_alive_at_end"] = alive
    print(json.dumps(result, indent=2))
    if shutil.which("gnuplot"):
        title = f"ssecast soak, {'redis' if args.redis else 'memory'} mode, {args.minutes:g} min"
        subprocess.run(["gnuplot", "-e", f"csv='{csv_path}'; out='{png_path}'; "
                        f"title_text='{title}'", str(ROOT / "bench/soak.gp")], check=True)
        print(f"plot: {png_path}")
    else:
        print("gnuplot not found (apt-get install -y gnuplot-nox): no plot")
    print(f"csv: {csv_path}")


if __name__ == "__main__":
    main()
