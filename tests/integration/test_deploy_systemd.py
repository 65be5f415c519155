# SPDX-License-Identifier: MIT
# Deploy kit (#19): the systemd unit verifies, and the real binary speaks the notify
# protocol (READY after listening / after Redis answers, STOPPING on SIGTERM, WATCHDOG).
import os
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from pathlib import Path

import pytest
import requests

from conftest import ROOT, RUN_DIR, RedisServer, Server, free_port, ssecast_bin, wait_until

UNIT = ROOT / "deploy" / "systemd" / "ssecast.service"
need_analyze = pytest.mark.skipif(shutil.which("systemd-analyze") is None,
                                  reason="systemd-analyze missing (apt-get install systemd)")


def unit_entries(text=None):
    """[(section, key, value)] of the unit, multi-valued keys kept."""
    section, out = None, []
    for line in (text or UNIT.read_text()).splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        if line.startswith("["):
            section = line.strip("[]")
            continue
        k, _, v = line.partition("=")
        out.append((section, k, v))
    return out


def unit_value(key, section="Service"):
    vals = [v for s, k, v in unit_entries() if s == section and k == key]
    assert vals, f"{key}= missing from [{section}]"
    return vals[-1]


def verify(text, tmp_path):
    unit = tmp_path / "ssecast.service"
    unit.write_text(text)
    return subprocess.run(["systemd-analyze", "verify", "--man=no", str(unit)],
                          capture_output=True, text=True, timeout=60)


@need_analyze
def test_unit_passes_systemd_analyze_verify(tmp_path):
    # verify needs the ExecStart binaries to exist: point them at the binary under test.
    text = UNIT.read_text().replace("/usr/bin/ssecast", str(Path(ssecast_bin()).resolve()))
    out = verify(text, tmp_path)
    assert out.returncode == 0 and out.stderr.strip() == "" and out.stdout.strip() == "", \
        out.stdout + out.stderr
    # The check is real: a bad value is reported (as a warning on stderr).
    assert "notfy" in verify(text.replace("Type=notify", "Type=notfy"), tmp_path).stderr


@need_analyze
def test_unit_sandboxing_exposure_is_low(tmp_path):
    unit = tmp_path / "ssecast.service"
    unit.write_text(UNIT.read_text())
    out = subprocess.run(["systemd-analyze", "security", "--offline=yes", "--no-pager",
                          str(unit)], capture_output=True, text=True, timeout=60)
    m = re.search(r"Overall exposure level for ssecast.service: ([0-9.]+)", out.stdout)
    assert m, out.stdout + out.stderr
    assert float(m.group(1)) <= 2.0, out.stdout  # "OK"; 10 is an unsandboxed service


def test_unit_directives():
    assert unit_value("Type") == "notify"
    assert unit_value("NotifyAccess") == "main"
    assert unit_value("User") == "ssecast" and unit_value("Group") == "ssecast"
    assert int(unit_value("LimitNOFILE")) >= 65536
    assert unit_value("ProtectSystem") == "strict"
    assert unit_value("NoNewPrivileges") == "yes"
    assert unit_value("WatchdogSec")
    # The stop timeout must leave room for the drain (shutdown.grace_seconds, default 10).
    grace = int(re.search(r"^grace_seconds = (\d+)$",
                          (ROOT / "config/ssecast.example.toml").read_text(), re.M).group(1))
    assert int(unit_value("TimeoutStopSec").rstrip("s")) > grace
    assert "config check" in unit_value("ExecStartPre")
    assert unit_value("ExecStart").startswith("/usr/bin/ssecast serve --config /etc/ssecast/")


class NotifyListener:
    """A unix datagram socket standing in for systemd's notify socket."""

    def __init__(self):
        self.path = tempfile.mktemp(prefix="notify-", suffix=".sock", dir=RUN_DIR)
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.sock.bind(self.path)
        self.messages = []  # (monotonic time, {field: value})

    def receive(self, timeout):
        self.sock.settimeout(timeout)
        try:
            data = self.sock.recv(4096).decode()
        except socket.timeout:
            return None
        fields = dict(l.split("=", 1) for l in data.splitlines() if "=" in l)
        self.messages.append((time.monotonic(), fields))
        return fields

    def wait_for(self, field, timeout=10.0):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            msg = self.receive(max(0.01, deadline - time.monotonic()))
            if msg and field in msg:
                return msg
        raise AssertionError(f"no {field} within {timeout}s; got {self.messages}")

    def close(self):
        self.sock.close()
        os.unlink(self.path)


@pytest.fixture
def notify():
    n = NotifyListener()
    yield n
    n.close()


def listening(port):
    with socket.socket() as s:
        return s.connect_ex(("127.0.0.1", port)) == 0


def test_ready_after_listening_and_stopping_on_sigterm(notify):
    srv = Server(env={"NOTIFY_SOCKET": notify.path})
    srv.start(wait_ready=False)
    try:
        ready = notify.wait_for("READY", timeout=20)
        # The moment READY arrives the port already accepts (no retry, no wait).
        assert listening(srv.port)
        assert requests.get(srv.url + "/readyz", timeout=2).status_code == 200
        assert ready["READY"] == "1" and "listening on" in ready.get("STATUS", "")
        stream = srv.subscribe("t")
        srv.proc.send_signal(signal.SIGTERM)
        stopping = notify.wait_for("STOPPING", timeout=10)
        assert stopping["STOPPING"] == "1" and stopping.get("STATUS") == "draining"
        assert srv.proc.wait(timeout=15) == 0
        assert stream.wait_closed(5)
        stream.close()
        assert sum("READY" in m for _, m in notify.messages) == 1
    finally:
        srv.kill()


def test_redis_mode_is_ready_only_once_redis_answers(notify):
    redis_port = free_port()
    srv = Server(env={"NOTIFY_SOCKET": notify.path}, args=["--redis",
                                                          f"redis://127.0.0.1:{redis_port}"])
    srv.start(wait_ready=False)
    redis = RedisServer(port=redis_port)
    try:
        waiting = notify.wait_for("STATUS", timeout=20)
        assert waiting["STATUS"] == "waiting for Redis" and "READY" not in waiting
        wait_until(lambda: listening(srv.port), what="the port")
        # Listening, but Redis is down: no READY.
        assert notify.receive(1.5) is None or all("READY" not in m for _, m in notify.messages)
        redis.start()
        ready = notify.wait_for("READY", timeout=20)
        assert "redis mode" in ready["STATUS"]
        assert requests.get(srv.url + "/readyz", timeout=2).status_code == 200
        assert srv.stop() == 0
    finally:
        srv.kill()
        redis.stop()


def test_watchdog_pings_while_the_loops_run(notify):
    srv = Server(env={"NOTIFY_SOCKET": notify.path, "WATCHDOG_USEC": "200000",
                      "SSECAST_HTTP_THREADS": "2"})
    srv.start(wait_ready=False)
    try:
        notify.wait_for("READY", timeout=20)
        start = time.monotonic()
        pings = 0
        while time.monotonic() - start < 1.2:
            msg = notify.receive(0.5)
            pings += bool(msg and msg.get("WATCHDOG") == "1")
        assert pings >= 4, notify.messages  # every 100 ms (WatchdogSec/2)
    finally:
        srv.stop()


@pytest.mark.parametrize("env", [{}, {"WATCHDOG_USEC": "200000", "WATCHDOG_PID": "1"}],
                         ids=["no-WATCHDOG_USEC", "watchdog-of-another-pid"])
def test_no_watchdog_unless_asked_for_this_process(notify, env):
    srv = Server(env={"NOTIFY_SOCKET": notify.path, **env})
    srv.start(wait_ready=False)
    try:
        notify.wait_for("READY", timeout=20)
        assert notify.receive(0.8) is None
    finally:
        srv.stop()


def test_without_notify_socket_nothing_changes(tmp_path, monkeypatch):
    # No NOTIFY_SOCKET: serves, drains and exits 0 as always, and says nothing about systemd.
    monkeypatch.delenv("NOTIFY_SOCKET", raising=False)  # CI itself may run under systemd
    srv = Server().start()
    assert requests.get(srv.url + "/readyz", timeout=2).status_code == 200
    assert srv.stop() == 0
    assert "notify" not in srv.logs().lower()
    # A NOTIFY_SOCKET nobody listens on does not stop it either.
    srv = Server(env={"NOTIFY_SOCKET": str(tmp_path / "nobody.sock")}).start()
    assert requests.get(srv.url + "/healthz", timeout=2).status_code == 200
    assert srv.stop() == 0
