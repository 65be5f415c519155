# SPDX-License-Identifier: MIT
# Integration-test support: start the real ssecast binary (and a real redis-server) on free
# loopback ports, talk to them over real sockets, stop them by PID.
import json
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time
from pathlib import Path

import jwt
import pytest
import requests

ROOT = Path(__file__).resolve().parents[2]
PUBLISH_KEY = "test-publish-key"
ADMIN_TOKEN = "test-admin-token"
JWT_SECRET = "test-jwt-secret-0123456789abcdef"


def _run_dir() -> Path:
    """This run's scratch folder (server logs, redis dirs) under $TMPDIR/ssecast-tests; only
    the newest five runs' folders are kept, so repeated runs do not fill /tmp."""
    base = Path(tempfile.gettempdir()) / "ssecast-tests"
    base.mkdir(exist_ok=True)
    runs = sorted(base.glob("run-*"), key=lambda p: p.stat().st_mtime)
    for old in runs[:-4]:
        shutil.rmtree(old, ignore_errors=True)
    return Path(tempfile.mkdtemp(prefix="run-", dir=base))


RUN_DIR = _run_dir()


def ssecast_bin() -> str:
    path = os.environ.get("SSECAST_BIN", str(ROOT / "build" / "release" / "ssecast"))
    if not Path(path).exists():
        raise RuntimeError(f"ssecast binary not found at {path}; build it or set SSECAST_BIN")
    return path


def make_token(sub="alice", secret=JWT_SECRET, algorithm="HS256", **claims) -> str:
    """A JWT for user `sub` with extra `claims`, signed like the test servers expect (or
    with another `secret`/`algorithm` to make a bad one)."""
    return jwt.encode({"sub": sub, **claims}, secret, algorithm=algorithm)


def rss_kib(srv, field="VmRSS"):
    """Resident set size of the server process (or, with field="VmHWM", its peak so far),
    from /proc/<pid>/status."""
    with open(f"/proc/{srv.proc.pid}/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    raise AssertionError(f"no {field}")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_until(predicate, timeout=10.0, interval=0.02, what="condition"):
    """Polls predicate() until it is truthy; fails the test after timeout seconds."""
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        last = predicate()
        if last:
            return last
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout}s waiting for {what} (last: {last!r})")


class CheckedThread(threading.Thread):
    """A daemon thread whose failure fails the test: an exception raised by target (a failed
    assert included) is kept, and join() raises it in the test's thread. join() also fails
    when the thread is still running after `timeout`."""

    def __init__(self, target, *args):
        super().__init__(daemon=True)
        self._fn, self._fn_args = target, args
        self.error = None

    def run(self):
        try:
            self._fn(*self._fn_args)
        except BaseException as e:  # reported by join()
            self.error = e

    def join(self, timeout=30.0):
        super().join(timeout)
        if self.is_alive():
            raise AssertionError(f"thread {self._fn.__name__} still running after {timeout}s")
        if self.error is not None:
            raise AssertionError(f"thread {self._fn.__name__} failed: {self.error!r}") \
                from self.error


class Server:
    """One ssecast process. env entries override SSECAST_* settings."""

    def __init__(self, env=None, args=(), port=None, host="127.0.0.1"):
        self.port = port or free_port()
        self.host = host
        self.url = f"http://{host}:{self.port}"
        self.env = {
            "SSECAST_AUTH_PUBLISH_KEYS": PUBLISH_KEY,
            "SSECAST_AUTH_ADMIN_TOKEN": ADMIN_TOKEN,
            "SSECAST_AUTH_JWT_SECRET": JWT_SECRET,
            "SSECAST_LOG_LEVEL": "info",
        }
        self.env.update(env or {})
        self.args = list(args)
        self.proc = None
        self.served = False  # answered /healthz once: it must also exit cleanly
        self.killed = False  # stopped on purpose with SIGKILL: no exit code to check
        self.log = tempfile.NamedTemporaryFile(prefix="ssecast-", suffix=".log", delete=False,
                                               dir=RUN_DIR)

    def start(self, wait_ready=True):
        env = {k: v for k, v in os.environ.items() if not k.startswith("SSECAST_")}
        env.update(self.env)
        env.setdefault("ASAN_OPTIONS", "detect_leaks=1:abort_on_error=0")
        self.proc = subprocess.Popen(
            [ssecast_bin(), "serve", "--listen", f"{self.host}:{self.port}", *self.args],
            env=env, stdout=self.log, stderr=subprocess.STDOUT)
        if wait_ready:
            try:
                wait_until(self._healthy, timeout=20, what=f"ssecast on {self.url}")
            except BaseException:
                self.stop(sig=signal.SIGKILL)  # never healthy: do not leave it running
                raise
        return self

    def _healthy(self):
        if self.proc.poll() is not None:
            raise AssertionError(f"ssecast exited with {self.proc.returncode}:\n{self.logs()}")
        try:
            self.served = requests.get(self.url + "/healthz", timeout=1).status_code == 200
        except requests.RequestException:
            return False
        return self.served

    def logs(self) -> str:
        return Path(self.log.name).read_text(errors="replace")

    def stop(self, sig=signal.SIGTERM, timeout=15):
        """Stops the process by PID; returns its exit code."""
        if self.proc is None or self.proc.poll() is not None:
            return None if self.proc is None else self.proc.returncode
        self.proc.send_signal(sig)
        try:
            return self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(timeout=5)
            raise AssertionError("ssecast did not exit after SIGTERM")

    def stop_clean(self):
        """stop(), then fails the test unless a server that served exited with 0: a crash,
        a sanitizer report or a leak at shutdown must not pass silently."""
        rc = self.stop()
        if self.served and not self.killed and rc not in (0, None):
            tail = "\n".join(self.logs().splitlines()[-30:])
            raise AssertionError(f"ssecast on {self.url} exited with {rc}:\n{tail}")
        return rc

    def kill(self):
        self.killed = True
        if self.proc and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(timeout=5)

    # --- HTTP helpers -------------------------------------------------------------------
    def publish(self, body, key=PUBLISH_KEY, headers=None, raw=None):
        h = {"Content-Type": "application/json"}
        if key is not None:
            h["Authorization"] = f"Bearer {key}"
        h.update(headers or {})
        data = raw if raw is not None else json.dumps(body)
        return requests.post(self.url + "/publish", data=data, headers=h, timeout=10)

    def metric(self, name, **labels) -> float:
        """One sample of /metrics: `name` with exactly these labels (in the server's order)."""
        want = name
        if labels:
            want += "{" + ",".join(f'{k}="{v}"' for k, v in labels.items()) + "}"
        text = requests.get(self.url + "/metrics", timeout=5).text
        for line in text.splitlines():
            if line.startswith(want + " "):
                return float(line.rsplit(" ", 1)[1])
        raise AssertionError(f"metric {want} missing from:\n{text}")

    def admin(self, path="/api/admin/sse-monitor", token=ADMIN_TOKEN):
        return requests.get(self.url + path, headers={"Authorization": f"Bearer {token}"},
                            timeout=10)

    def subscribe(self, *topics, **kw):
        return SSEStream(self, topics, **kw)


class SSEStream:
    """A raw-socket SSE client: sends the request, parses the status, headers and events.
    Parsing follows the WHATWG rules (fields, multi-line data, comments, retry)."""

    def __init__(self, server, topics, headers=None, query="", timeout=10.0, path="/events",
                 rcvbuf=None):
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        if rcvbuf:  # before connect, so the advertised window stays small
            self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
        self.sock.settimeout(timeout)
        self.sock.connect((server.host, server.port))
        qs = "&".join(f"topic={t}" for t in topics)
        if query:
            qs = f"{qs}&{query}" if qs else query
        lines = [f"GET {path}?{qs} HTTP/1.1", f"Host: {server.host}:{server.port}",
                 "Accept: text/event-stream"]
        for k, v in (headers or {}).items():
            lines.append(f"{k}: {v}")
        self.sock.sendall(("\r\n".join(lines) + "\r\n\r\n").encode())
        self.buf = b""
        self.status, self.headers = self._read_head()
        self.retry = None
        self.comments = 0
        self.closed = False

    def _read_more(self):
        chunk = self.sock.recv(65536)
        if not chunk:
            self.closed = True
            raise EOFError("stream closed")
        self.buf += chunk

    def _read_head(self):
        while b"\r\n\r\n" not in self.buf:
            self._read_more()
        head, self.buf = self.buf.split(b"\r\n\r\n", 1)
        lines = head.decode("latin-1").split("\r\n")
        status = int(lines[0].split()[1])
        headers = {}
        for line in lines[1:]:
            k, v = line.split(":", 1)
            headers[k.strip().lower()] = v.strip()
        return status, headers

    def body(self):
        """For non-200 answers: the JSON body."""
        n = int(self.headers.get("content-length", "0"))
        while len(self.buf) < n:
            self._read_more()
        return json.loads(self.buf[:n])

    def next_event(self, timeout=10.0):
        """Returns the next event as dict(id, event, data), or raises on timeout/EOF."""
        self.sock.settimeout(timeout)
        event = {"id": None, "event": "message", "data": []}
        have_data = False
        while True:
            while b"\n" not in self.buf:
                self._read_more()
            line, self.buf = self.buf.split(b"\n", 1)
            line = line.decode("utf-8")
            if line.endswith("\r"):
                line = line[:-1]
            if line == "":
                if have_data:
                    event["data"] = "\n".join(event["data"])
                    return event
                event = {"id": None, "event": "message", "data": []}
                continue
            if line.startswith(":"):
                self.comments += 1
                continue
            field, _, value = line.partition(":")
            if value.startswith(" "):
                value = value[1:]
            if field == "data":
                event["data"].append(value)
                have_data = True
            elif field == "id":
                event["id"] = value
            elif field == "event":
                event["event"] = value
            elif field == "retry":
                self.retry = int(value)

    def wait_comments(self, n, timeout=10.0):
        """Reads until `n` comment lines (heartbeats) have been seen in all, failing after
        timeout seconds. Takes comments, blank lines and `retry:`; any other line (an event)
        before that fails."""
        deadline = time.monotonic() + timeout
        while self.comments < n:
            while b"\n" in self.buf and self.comments < n:
                line, rest = self.buf.split(b"\n", 1)
                if line.startswith(b":"):
                    self.comments += 1
                elif line.startswith(b"retry:"):
                    self.retry = int(line[6:].strip())
                elif line.strip(b"\r"):
                    raise AssertionError(f"an event before {n} comments: {self.buf[:200]!r}")
                self.buf = rest
            left = deadline - time.monotonic()
            if self.comments >= n:
                break
            if left <= 0:
                raise AssertionError(f"{self.comments} of {n} comments after {timeout}s")
            self.sock.settimeout(left)
            try:
                self._read_more()
            except (socket.timeout, TimeoutError):
                pass
        return self.comments

    def events(self, n, timeout=10.0):
        return [self.next_event(timeout) for _ in range(n)]

    def wait_closed(self, timeout=10.0):
        """True when the server closes the stream within timeout."""
        self.sock.settimeout(timeout)
        try:
            while True:
                self._read_more()
        except EOFError:
            return True
        except socket.timeout:
            return False

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass


class RedisServer:
    """A throwaway redis-server on a free loopback port, no persistence."""

    def __init__(self, port=None, args=()):
        self.port = port or free_port()
        self.url = f"redis://127.0.0.1:{self.port}"
        self.args = list(args)  # extra redis-server options (--requirepass ...)
        self.proc = None
        self.dir = tempfile.mkdtemp(prefix="redis-", dir=RUN_DIR)

    def start(self):
        self.proc = subprocess.Popen(
            ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
             "--appendonly", "no", "--dir", self.dir, *self.args],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            wait_until(self.ping, timeout=10, what="redis-server")
        except BaseException:
            self.stop()  # never answered: do not leave it running
            raise
        return self

    def ping(self):
        """Up: it answers PING (a server with a password answers NOAUTH, which is up too)."""
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=0.5) as s:
                s.sendall(b"PING\r\n")
                return s.recv(16).startswith((b"+PONG", b"-NOAUTH"))
        except OSError:
            return False

    def cli(self, *args) -> str:
        out = subprocess.run(["redis-cli", "-p", str(self.port), *args], capture_output=True,
                             text=True, timeout=10)
        return out.stdout.strip()

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:  # e.g. SIGSTOPped by a test
                self.proc.kill()
                self.proc.wait(timeout=5)


def instance_env(url, i, **extra):
    """The environment of redis-mode instance `i` (id i<i>) on the Redis at `url`."""
    env = {"SSECAST_REDIS_URL": url, "SSECAST_REDIS_INSTANCE_ID": f"i{i}",
           "SSECAST_SSE_HEARTBEAT_SECONDS": "1", "SSECAST_HTTP_THREADS": "2"}
    env.update(extra)
    return env


def stop_all_clean(things):
    """stop_clean()s (or, for a Cluster, stop()s) every one, then fails with every unclean
    exit at once: one crash must not keep the others running."""
    failures = []
    for t in things:
        try:
            t.stop_clean() if hasattr(t, "stop_clean") else t.stop()
        except AssertionError as e:
            failures.append(str(e))
    assert not failures, "\n".join(failures)


class Cluster:
    """One redis-server and `n` ssecast instances (ids i0, i1, ...) sharing it. A cluster
    that fails to start stops what did start before the error propagates."""

    def __init__(self, n=3, env=None):
        self.env = dict(env or {})
        self.servers = []
        self.redis = RedisServer().start()
        try:
            for i in range(n):
                self.servers.append(self.make(i))
        except BaseException:
            for s in self.servers:
                s.stop()
            self.redis.stop()
            raise

    def make(self, i):
        return Server(env=instance_env(self.redis.url, i, **self.env)).start()

    def wait_ready(self, timeout=15):
        for s in self.servers:
            wait_until(lambda: requests.get(s.url + "/readyz", timeout=1).status_code == 200,
                       timeout=timeout, what=f"{s.url} ready")

    def monitor(self, i=0):
        r = self.servers[i].admin()
        assert r.status_code == 200, r.text
        return r.json()

    def stop(self):
        """Stops everything (again is harmless); fails when an instance that served exited
        uncleanly."""
        try:
            stop_all_clean(self.servers)
        finally:
            self.redis.stop()


@pytest.fixture
def server():
    s = Server().start()
    yield s
    s.stop_clean()


@pytest.fixture
def make_server():
    started = []

    def factory(**kw):
        s = Server(**kw)
        started.append(s)
        return s

    yield factory
    stop_all_clean(started)


@pytest.fixture
def redis_server():
    r = RedisServer().start()
    yield r
    r.stop()


@pytest.fixture
def make_cluster():
    """make_cluster(n=3, env=None, ready=True): a started Cluster (waited /readyz unless
    ready=False). Every cluster made is stopped at teardown, and the test fails when an
    instance that served exited non-zero."""
    made = []

    def factory(n=3, env=None, ready=True):
        c = Cluster(n=n, env=env)
        made.append(c)
        if ready:
            c.wait_ready()
        return c

    yield factory
    stop_all_clean(made)


@pytest.fixture
def cluster(make_cluster):
    """Three instances on one Redis, ready."""
    return make_cluster()


@pytest.fixture
def pair(make_cluster):
    """Two instances on one Redis, ready."""
    return make_cluster(n=2)
