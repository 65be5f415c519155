# SPDX-License-Identifier: MIT
# Redis mode, SPEC §Redis in production (#15): passwords (URL, password file, env), ACL users
# under exactly the documented least-privilege rule, wrong credentials (auth_failed, 503,
# bounded logging, recovery), secrets absent from every output, and a hung Redis.
import json
import re
import secrets
import signal
import socket
import subprocess
import threading
import time
import urllib.parse
from pathlib import Path

import pytest
import requests

from conftest import (RUN_DIR, ROOT, RedisServer, Server, instance_env, ssecast_bin,
                      stop_all_clean, wait_until)
from redis_support import PREFIX, assert_no_more_events, auth

ADMIN_PASSWORD = "admin-" + secrets.token_hex(8)


def acl_rule() -> str:
    """The rule docs/redis.md gives, as one line (the block after the acl-rule comment)."""
    doc = (ROOT / "docs" / "redis.md").read_text()
    m = re.search(r"<!-- acl-rule:.*?-->\s*```text\n(.*?)\n```", doc, re.S)
    assert m, "docs/redis.md lost its acl-rule block"
    return m.group(1).strip()


def rule_args(password: str, prefix=PREFIX) -> list:
    """ACL SETUSER's arguments for user ssecast from the documented rule."""
    words = acl_rule().split()
    assert words[:3] == ["ACL", "SETUSER", "ssecast"], words[:3]
    return [w.replace(">PASSWORD", ">" + password).replace("ssecast:", prefix)
            for w in words[2:]]


class AuthRedis(RedisServer):
    """redis-server whose default user needs ADMIN_PASSWORD; cli() authenticates as it."""

    def __init__(self, port=None, requirepass=ADMIN_PASSWORD):
        super().__init__(port, args=("--requirepass", requirepass))
        self.requirepass = requirepass

    def cli(self, *args, db=0) -> str:
        out = subprocess.run(["redis-cli", "-p", str(self.port), "--user", "default", "--pass",
                              self.requirepass, "--no-auth-warning", "-n", str(db), *args],
                             capture_output=True, text=True, timeout=10)
        return out.stdout.strip()


def ready(s) -> bool:
    return requests.get(s.url + "/readyz", timeout=2).status_code == 200


def status(s) -> str:
    return s.admin().json()["redis"]["status"]


# --- the documented rule names every command ssecast sends --------------------------------

def commands_in_source(known: set) -> set:
    """Every Redis command in src/: what the Lua scripts call (files and embedded, also
    through pcall(redis.call, ...)), and every upper-case string literal of src/redis/*.cpp
    that is a Redis command (`known`: COMMAND LIST); XINFO/SCRIPT with their subcommand."""
    found = set()
    lua_call = re.compile(r"(?:redis\.p?call\(|pcall\(\s*redis\.p?call\s*,)\s*['\"]([A-Za-z]+)['\"]"
                          r"(?:\s*,\s*['\"]([A-Za-z]+)['\"])?")
    for path in list((ROOT / "src").rglob("*.lua")) + list((ROOT / "src").rglob("*.cpp")):
        if path.name.endswith("_test.cpp"):
            continue
        text = path.read_text()
        for m in lua_call.finditer(text):
            found.add((m.group(1).lower(), (m.group(2) or "").lower()))
        if path.suffix == ".cpp" and path.parent.name == "redis":
            for m in re.finditer(r"\"([A-Z]+)\"(?:,\s*\"([A-Z]+)\")?", text):
                if m.group(1).lower() in known:
                    found.add((m.group(1).lower(), (m.group(2) or "").lower()))
    commands = set()
    for cmd, sub in found:
        commands.add(f"{cmd}|{sub}" if cmd in ("xinfo", "script", "client", "config") else cmd)
    commands.discard("auth")  # always allowed
    commands.discard("ping")  # only without password and db, never an ACL user
    commands.discard("sentinel")  # sent to the sentinels (redis+sentinel://), not to Redis
    commands.discard("readonly")  # an error reply ssecast reads (connection.cpp), never sent
    return commands


def test_documented_acl_rule_names_every_command_in_src(redis_server):
    known = set(redis_server.cli("COMMAND", "LIST").lower().split())
    assert {"xadd", "evalsha", "subscribe"} <= known
    allowed = {w[1:] for w in acl_rule().split() if w.startswith("+")}
    needed = commands_in_source(known)
    assert {"evalsha", "script|load", "xadd", "subscribe", "blmove", "zremrangebyscore"} <= needed
    assert needed - allowed == set(), f"commands sent but not in the rule: {needed - allowed}"
    assert allowed - needed - {"select"} == set(), f"rule allows unused: {allowed - needed}"


# --- ACL user with exactly the documented rule --------------------------------------------

def test_acl_user_with_the_documented_rule_runs_everything():
    """Two instances as ACL user `ssecast` in db 3, with rate limits: publish, subscribe,
    resume, registry, stats, ingest, heartbeats and dead-instance cleanup all work, and Redis
    logged no ACL denial at all."""
    r = AuthRedis().start()
    password = "acl-" + secrets.token_hex(8) + "@:/%"
    assert r.cli("ACL", "SETUSER", *rule_args(password)) == "OK"
    url = f"redis://ssecast:{urllib.parse.quote(password, safe='')}@127.0.0.1:{r.port}/3"
    limits = {"SSECAST_RATE_LIMIT": "publish:ip:1000/60,sse:user_or_ip:1000/60",
              "SSECAST_REDIS_HEARTBEAT_SECONDS": "1", "SSECAST_REDIS_INSTANCE_TTL_SECONDS": "3"}
    servers = [Server(env=instance_env(url, i, **limits)).start() for i in range(3)]
    a, b, victim = servers
    try:
        for s in servers:
            wait_until(lambda: ready(s), timeout=15, what=f"{s.url} ready")
        assert status(a) == "connected"
        live = b.subscribe("orders", headers=auth("alice"))
        assert live.status == 200 and "x-ratelimit-limit" in live.headers
        first = a.publish({"topic": "orders", "data": "one"})
        assert first.status_code == 200, first.text
        assert "X-RateLimit-Remaining" in first.headers
        assert live.next_event()["data"] == "one"
        # Resume on the other instance (replay script).
        more = a.publish({"topic": "orders", "data": "two"}).json()["id"]
        resumed = a.subscribe("orders", headers={**auth("bob"),
                                                  "Last-Event-ID": first.json()["id"]})
        assert resumed.next_event()["id"] == more
        assert live.next_event()["id"] == more
        # A prefix subscription (PSUBSCRIBE of a pattern under the prefix).
        prefix = a.subscribe("orders/*", headers=auth("erin"))
        assert prefix.status == 200
        deep = b.publish({"topic": "orders/eu/1", "data": "deep"})
        assert deep.status_code == 200, deep.text
        assert prefix.next_event()["data"] == "deep"
        prefix.close()
        # Ingest (BLMOVE, LRANGE, LREM in the publish script).
        assert r.cli("RPUSH", PREFIX + "ingest", json.dumps({"topic": "orders", "data": "in"}),
                     db=3) == "1"
        assert live.next_event()["data"] == "in"
        assert resumed.next_event()["data"] == "in"
        # Registry and global stats (flush, snapshot scripts).
        wait_until(lambda: a.admin().json()["global"]["connections"] == 2, timeout=5,
                   what="global connection count")
        assert {u["userId"] for u in a.admin().json()["perUser"]} == {"alice", "bob"}
        # Dead-instance cleanup (cleanup lock SET NX, cleanup.lua) and drain (deregister.lua).
        victim.kill()
        wait_until(lambda: {i["instanceId"] for i in a.admin().json()["instances"]}
                   == {"i0", "i1"}, timeout=10, what="dead instance cleaned up")
        assert r.cli("DBSIZE", db=3) != "0" and r.cli("DBSIZE", db=0) == "0"  # SELECT 3 held
        for s in (live, resumed):
            s.close()
        assert b.stop() == 0
        wait_until(lambda: {i["instanceId"] for i in a.admin().json()["instances"]} == {"i0"},
                   timeout=5, what="deregistered")
        assert ready(a)
        # Least privilege: no key outside the prefix, no admin command (channels are not
        # scoped: see docs/redis.md on PSUBSCRIBE).
        as_user = ["redis-cli", "-p", str(r.port), "--user", "ssecast", "--pass", password,
                   "--no-auth-warning"]
        for cmd in (["GET", "other"], ["FLUSHALL"], ["CONFIG", "GET", "*"], ["KEYS", "*"],
                    ["EVAL", "return 1", "0"]):
            out = subprocess.run(as_user + cmd, capture_output=True, text=True).stdout
            assert "NOPERM" in out, (cmd, out)
        # The decisive check: Redis refused nothing ssecast sent (our probes above are the
        # only entries of the ACL log).
        log = r.cli("ACL", "LOG", "100")
        objects = re.findall(r"^object\n(.+)$", log, re.M)
        assert objects and set(objects) <= {"other", "flushall", "config|get", "keys", "eval"}, log
        for s in servers:
            text = s.logs()
            assert "NOPERM" not in text and "can't" not in text, text
            assert password not in text and urllib.parse.quote(password, safe="") not in text
    finally:
        stop_all_clean([*servers, r])


# --- passwords: URL (percent-encoded), file, env; never shown ---------------------------

def monitor_stream_text(s) -> str:
    """The first document of the monitor's SSE stream."""
    with requests.get(s.url + "/api/admin/sse-monitor/stream",
                      headers={"Authorization": "Bearer test-admin-token"}, stream=True,
                      timeout=5) as resp:
        lines = []
        for line in resp.iter_lines(decode_unicode=True):
            lines.append(line)
            if line.startswith("data:"):
                return "\n".join(lines)
    raise AssertionError("no monitor document")


def outputs_to_search(servers, extra_env):
    """Everything a password must never appear in: logs, monitor, /metrics, --help, config
    check (valid and invalid)."""
    texts = []
    for s in servers:
        texts.append(s.logs())
        texts.append(s.admin().text)
        texts.append(monitor_stream_text(s))
        texts.append(requests.get(s.url + "/metrics", timeout=5).text)
    base = {k: v for k, v in extra_env.items()}
    for args in (["--help"], ["serve", "--help"], ["config", "check"], ["config", "--help"],
                 ["config", "check", "--redis", base["SSECAST_REDIS_URL"]]):
        p = subprocess.run([ssecast_bin(), *args], env={"PATH": "/usr/bin:/bin", **base},
                           capture_output=True, text=True, timeout=10)
        texts.append(p.stdout + p.stderr)
    return texts


def test_passwords_from_url_file_and_env_work_and_never_show():
    password = "pw-" + secrets.token_hex(8) + "@:/%?#"
    encoded = urllib.parse.quote(password, safe="")
    r = AuthRedis(requirepass=password).start()
    pw_file = Path(RUN_DIR) / f"redis-password-{r.port}"
    pw_file.write_text(password + "\n")
    pw_file.chmod(0o600)
    plain = f"redis://127.0.0.1:{r.port}"
    envs = [instance_env(f"redis://:{encoded}@127.0.0.1:{r.port}", 0, SSECAST_LOG_LEVEL="debug"),
            instance_env(plain, 1, SSECAST_REDIS_PASSWORD_FILE=str(pw_file)),
            instance_env(plain, 2, SSECAST_REDIS_PASSWORD=password)]
    servers = [Server(env=e).start() for e in envs]
    try:
        for s in servers:
            wait_until(lambda: ready(s), timeout=15, what=f"{s.url} ready")
        streams = [s.subscribe("t", headers=auth(f"u{i}")) for i, s in enumerate(servers)]
        for i, s in enumerate(servers):
            event_id = s.publish({"topic": "t", "data": f"from {i}"}).json()["id"]
            for st in streams:
                assert st.next_event()["id"] == event_id
        for st in streams:
            st.close()
        # A bad URL with a password in it: the error shows it redacted.
        bad = subprocess.run([ssecast_bin(), "serve", "--redis",
                              f"redis://app:{encoded}@127.0.0.1:99999"],
                             env={"PATH": "/usr/bin:/bin"}, capture_output=True, text=True,
                             timeout=10)
        assert bad.returncode == 2 and "redis://app:***@127.0.0.1:99999" in bad.stderr, bad
        # Two sources: refused, naming both, showing neither.
        two = subprocess.run([ssecast_bin(), "config", "check"],
                             env={"PATH": "/usr/bin:/bin", **envs[0],
                                  "SSECAST_REDIS_PASSWORD": password},
                             capture_output=True, text=True, timeout=10)
        assert two.returncode == 1 and "redis.url and redis.password" in two.stderr, two
        ok = subprocess.run([ssecast_bin(), "config", "check"],
                            env={"PATH": "/usr/bin:/bin", **envs[0]}, capture_output=True,
                            text=True, timeout=10)
        assert ok.returncode == 0 and f"redis://:***@127.0.0.1:{r.port}" in ok.stdout, ok
        texts = outputs_to_search(servers, envs[0]) + [bad.stdout + bad.stderr,
                                                       two.stdout + two.stderr,
                                                       ok.stdout + ok.stderr]
        assert "redis: redis://:***@127.0.0.1" in servers[0].logs()
        for text in texts:
            for secret in (password, encoded, password[:11]):
                assert secret not in text, f"{secret!r} shown in:\n{text[:3000]}"
    finally:
        stop_all_clean([*servers, r])


# --- wrong credentials: up, 503, auth_failed, few log lines, recovery ------------------------

def assert_auth_failed(s):
    assert requests.get(s.url + "/healthz", timeout=2).status_code == 200
    assert requests.get(s.url + "/readyz", timeout=2).status_code == 503
    r = s.publish({"topic": "t", "data": "x"})
    assert r.status_code == 503 and r.json()["error"] == "backend_unavailable", r.text
    assert status(s) == "auth_failed"


def wait_recovered(s, timeout=12):
    # /readyz needs commands + subscriber; the status also waits for the ingest connection,
    # whose backoff step may end a little later.
    wait_until(lambda: ready(s) and status(s) == "connected", timeout=timeout, interval=0.1,
               what="ready and connected after the fix")
    stream = s.subscribe("t", headers=auth("carol"))
    event_id = s.publish({"topic": "t", "data": "after"}).json()["id"]
    assert stream.next_event()["id"] == event_id
    stream.close()


def test_wrong_password_is_auth_failed_until_fixed_on_the_redis_side():
    r = AuthRedis(requirepass="right-" + secrets.token_hex(4)).start()
    wrong = "wrong-" + secrets.token_hex(8)
    s = Server(env=instance_env(f"redis://:{wrong}@127.0.0.1:{r.port}", 0)).start()
    try:
        wait_until(lambda: status(s) == "auth_failed", timeout=5, what="auth_failed")
        assert_auth_failed(s)
        started = time.monotonic()
        time.sleep(8)  # ≥ 2 backoff cap periods: many attempts, few lines
        assert_auth_failed(s)
        text = s.logs()
        lines = [l for l in text.splitlines() if "WRONGPASS" in l or "AUTH refused" in l]
        # One line per connection for the burst (4 connections: commands, subscriber,
        # ingest, control), nothing per attempt.
        assert 1 <= len(lines) <= 4, "\n".join(lines)
        assert all("attempt 1)" in l for l in lines), lines
        assert wrong not in text
        # Fixed on the Redis side: it recovers by itself, within one backoff step.
        r.cli("CONFIG", "SET", "requirepass", wrong)
        r.requirepass = wrong
        fixed = time.monotonic()
        wait_recovered(s)
        assert time.monotonic() - fixed < 12
        assert "after" in s.logs() and "failed attempts" in s.logs()
        assert time.monotonic() - started > 8
    finally:
        stop_all_clean([s, r])


def test_unknown_acl_user_then_missing_command_then_fixed():
    r = AuthRedis().start()
    password = "acl-" + secrets.token_hex(8)
    s = Server(env=instance_env(f"redis://ssecast:{password}@127.0.0.1:{r.port}", 0)).start()
    try:
        # No such user yet: WRONGPASS on AUTH.
        wait_until(lambda: status(s) == "auth_failed", timeout=5, what="auth_failed")
        assert_auth_failed(s)
        # The user exists but the rule lacks EVALSHA: connected, every script refused.
        args = [a for a in rule_args(password) if a != "+evalsha"]
        assert r.cli("ACL", "SETUSER", *args) == "OK"
        wait_until(lambda: requests.get(s.url + "/api/admin/sse-monitor",
                                        headers={"Authorization": "Bearer test-admin-token"},
                                        timeout=2).json()["redis"]["status"] == "auth_failed"
                   and "NOPERM" in s.logs(), timeout=12, what="NOPERM seen")
        assert not ready(s)
        assert s.publish({"topic": "t", "data": "x"}).status_code == 503
        # The documented rule: everything works.
        assert r.cli("ACL", "SETUSER", *rule_args(password)) == "OK"
        wait_recovered(s)
    finally:
        stop_all_clean([s, r])


def test_password_file_rotation_needs_no_restart():
    r = AuthRedis(requirepass="old-" + secrets.token_hex(4)).start()
    pw_file = Path(RUN_DIR) / f"redis-password-rot-{r.port}"
    pw_file.write_text(r.requirepass + "\n")
    s = Server(env=instance_env(f"redis://127.0.0.1:{r.port}", 0,
                             SSECAST_REDIS_PASSWORD_FILE=str(pw_file))).start()
    try:
        wait_until(lambda: ready(s), timeout=15, what="ready")
        new = "new-" + secrets.token_hex(4)
        pw_file.write_text(new + "\n")
        r.cli("CONFIG", "SET", "requirepass", new)
        r.requirepass = new
        r.cli("CLIENT", "KILL", "TYPE", "normal")  # make every connection re-authenticate
        r.cli("CLIENT", "KILL", "TYPE", "pubsub")
        wait_recovered(s)
        assert new not in s.logs()
    finally:
        stop_all_clean([s, r])


# --- a hung Redis --------------------------------------------------------------------------

class HungRedis:
    """Accepts TCP connections and reads forever, never answering (a wedged Redis)."""

    def __init__(self):
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(64)
        self.port = self.sock.getsockname()[1]
        self.conns = []
        self.stopped = False
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self):
        while not self.stopped:
            try:
                c, _ = self.sock.accept()
            except OSError:
                return
            self.conns.append(c)
            threading.Thread(target=self._drain, args=(c,), daemon=True).start()

    @staticmethod
    def _drain(c):
        try:
            while c.recv(65536):
                pass
        except OSError:
            pass

    def stop(self):
        self.stopped = True
        self.sock.close()
        for c in self.conns:
            c.close()


def test_hung_redis_is_a_down_redis():
    hung = HungRedis()
    s = Server(env=instance_env(f"redis://127.0.0.1:{hung.port}", 0,
                             SSECAST_REDIS_CONNECT_TIMEOUT_MS="1000")).start()
    try:
        time.sleep(2.5)
        assert len(hung.conns) >= 3  # it did connect, and keeps trying
        t0 = time.monotonic()
        r = s.publish({"topic": "t", "data": "x"})
        assert r.status_code == 503 and time.monotonic() - t0 < 1, r.text
        assert requests.get(s.url + "/readyz", timeout=2).status_code == 503
        assert status(s) == "disconnected"
        assert "no answer to PING within the connect timeout" in s.logs()
    finally:
        stop_all_clean([s, hung])


def test_sigstop_redis_publish_answers_503_within_the_command_timeout():
    r = RedisServer().start()
    s = Server(env=instance_env(r.url, 0, SSECAST_REDIS_COMMAND_TIMEOUT_MS="1000",
                             SSECAST_REDIS_CONNECT_TIMEOUT_MS="1000")).start()
    try:
        wait_until(lambda: ready(s), timeout=15, what="ready")
        stream = s.subscribe("t", headers=auth("dave"))
        first = s.publish({"topic": "t", "data": "before"}).json()["id"]
        assert stream.next_event()["id"] == first
        r.proc.send_signal(signal.SIGSTOP)
        try:
            times = []
            for _ in range(3):
                t0 = time.monotonic()
                resp = s.publish({"topic": "t", "data": "during"})
                times.append(time.monotonic() - t0)
                assert resp.status_code == 503, resp.text
            assert max(times) < 2.0, times  # command timeout 1 s, then down at once
            wait_until(lambda: not ready(s), timeout=5, what="/readyz 503")
            before = stream.comments
            assert_no_more_events(stream, wait=2.2)  # heartbeats go on, no event
            assert stream.comments > before and not stream.closed
        finally:
            r.proc.send_signal(signal.SIGCONT)
        wait_until(lambda: ready(s), timeout=12, interval=0.1, what="ready after SIGCONT")
        after = s.publish({"topic": "t", "data": "after"})
        assert after.status_code == 200, after.text
        got = stream.next_event()
        # A "during" publish may have run in Redis before its reply timed out (503 means
        # "maybe"): then it arrives first. Nothing else may.
        while got["data"] == "during":
            got = stream.next_event()
        assert got["id"] == after.json()["id"]
        stream.close()
    finally:
        stop_all_clean([s, r])
