# SPDX-License-Identifier: MIT
# Deploy kit (#19): `ssecast --version`, `ssecast config check`, and log.format = "json".
import json
import re
import socket
import subprocess
from pathlib import Path

from conftest import ROOT, Server, ssecast_bin, wait_until

EXAMPLE = ROOT / "config" / "ssecast.example.toml"


def run(*args, env=None, timeout=20):
    return subprocess.run([ssecast_bin(), *args], capture_output=True, text=True,
                          timeout=timeout, env=env or {})


def test_version_prints_version_and_commit():
    out = run("--version")
    assert out.returncode == 0, out.stderr
    m = re.fullmatch(r"ssecast (\d+\.\d+\.\d+) \(commit ([0-9a-f]{7,}(?:-dirty)?|unknown)\)\n",
                     out.stdout)
    assert m, out.stdout
    cmake = (ROOT / "CMakeLists.txt").read_text()
    assert f"VERSION {m.group(1)} " in cmake
    head = subprocess.run(["git", "-C", str(ROOT), "rev-parse", "HEAD"], capture_output=True,
                          text=True)
    if head.returncode == 0 and m.group(2) != "unknown":
        # The binary under test was built from this checkout (maybe at an older commit
        # when the build is stale): its commit must at least be one of ours.
        known = subprocess.run(["git", "-C", str(ROOT), "cat-file", "-t",
                                m.group(2).removesuffix("-dirty")], capture_output=True, text=True)
        assert known.stdout.strip() == "commit", m.group(2)


def test_config_check_accepts_the_example_and_does_not_start():
    # The port is taken: a check that started the server would fail to bind.
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        out = run("config", "check", "--config", str(EXAMPLE), "--listen", f"127.0.0.1:{port}")
    assert out.returncode == 0, out.stderr
    assert "configuration OK" in out.stdout and str(EXAMPLE) in out.stdout
    assert "listening" not in out.stdout + out.stderr
    # No file: defaults plus environment.
    assert run("config", "check").returncode == 0
    env_file = run("config", "check", env={"SSECAST_CONFIG": str(EXAMPLE)})
    assert env_file.returncode == 0 and str(EXAMPLE) in env_file.stdout


def test_config_check_reports_every_error_with_key_and_line(tmp_path):
    bad = tmp_path / "bad.toml"
    bad.write_text("\n".join([
        "[http]",                      # 1
        'listen = "nowhere"',          # 2
        "listn = 3",                   # 3
        "[limits]",                    # 4
        "max_queue_bytes = -5",        # 5
        "[log]",                       # 6
        'format = "xml"',              # 7
        "[[rate_limit]]",              # 8
        'endpoint = "sse"',            # 9
        "limit = 0",                   # 10
    ]) + "\n")
    out = run("config", "check", "--config", str(bad),
              env={"SSECAST_SSE_RETRY_MS": "soon", "SSECAST_HTTP_LISTN": "x"})
    assert out.returncode == 1
    errors = [l for l in out.stderr.splitlines() if l.startswith("error: ")]
    expected = [
        f"{bad}:2: http.listen:", f"{bad}:3: unknown key http.listn",
        f"{bad}:5: limits.max_queue_bytes:", f"{bad}:7: log.format:",
        f"{bad}:10: rate_limit[0].limit:", "SSECAST_HTTP_LISTN", "SSECAST_SSE_RETRY_MS: sse.retry_ms",
    ]
    assert len(errors) == len(expected), out.stderr
    for line, want in zip(errors, expected):
        assert want in line, (want, out.stderr)
    assert "7 configuration errors" in out.stderr
    # A syntax error: one error with line and column; a missing file: named.
    broken = tmp_path / "broken.toml"
    broken.write_text("[http]\nthreads = = 3\n")
    out = run("config", "check", "--config", str(broken))
    assert out.returncode == 1 and f"{broken}:2:" in out.stderr and "TOML syntax" in out.stderr
    out = run("config", "check", "--config", str(tmp_path / "missing.toml"))
    assert out.returncode == 1 and "missing.toml: cannot read" in out.stderr


def _records(server, fmt):
    wait_until(lambda: "listening on" in server.logs(), what="the listening record")
    server.stop()
    return server.logs().splitlines()


def test_json_log_format_has_the_fields_of_the_text_format(make_server):
    text_lines = _records(make_server(env={"SSECAST_LOG_FORMAT": "text"}).start(), "text")
    json_lines = _records(make_server(env={"SSECAST_LOG_FORMAT": "json"}).start(), "json")
    text_re = re.compile(r"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}) (\w+) \[(\d+)\] (.*)")
    text = [text_re.fullmatch(l) for l in text_lines]
    assert all(text), text_lines
    records = [json.loads(l) for l in json_lines]  # every line is one JSON object
    assert len(records) == len(text)
    for rec in records:
        assert list(rec) == ["time", "level", "thread", "message"], rec
        assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}", rec["time"])
        assert isinstance(rec["thread"], int)
    # Same records, same level names and messages, in the same order (ids and keys differ
    # between runs, so compare the words before the first digit).
    def shape(msg):
        return re.split(r"[0-9]", msg, maxsplit=1)[0]
    assert [(m.group(2), shape(m.group(4))) for m in text] == \
        [(r["level"], shape(r["message"])) for r in records]
    assert any("listening on" in r["message"] for r in records)
    assert any(r["message"].startswith("drained") for r in records)
