# SPDX-License-Identifier: MIT
# The command line: --help, token, publish, and start-up errors that name the key.
import subprocess

import jwt

from conftest import JWT_SECRET, PUBLISH_KEY, ssecast_bin


def run(*args, env=None, timeout=20):
    return subprocess.run([ssecast_bin(), *args], capture_output=True, text=True,
                          timeout=timeout, env=env)


def test_help_for_each_subcommand():
    for sub in ([], ["serve"], ["token"], ["publish"]):
        out = run(*sub, "--help")
        assert out.returncode == 0
        assert "Usage" in out.stdout or "usage" in out.stdout.lower()


def test_token_mints_a_verifiable_jwt():
    out = run("token", "--sub", "42", "--subscribe", "orders/*", "--ttl", "60",
              env={"SSECAST_AUTH_JWT_SECRET": JWT_SECRET})
    assert out.returncode == 0, out.stderr
    claims = jwt.decode(out.stdout.strip(), JWT_SECRET, algorithms=["HS256"])
    assert claims["sub"] == "42"
    assert claims["subscribe"] == ["orders/*"]
    assert "exp" in claims
    missing = run("token", "--sub", "42", env={})
    assert missing.returncode != 0
    assert "jwt_secret" in missing.stderr


def test_publish_command_talks_to_a_running_hub(server):
    s = server.subscribe("cli")
    out = run("publish", "--url", server.url, "--key", PUBLISH_KEY, "--topic", "cli",
              "--type", "note", "--data", '{"n": 1}')
    assert out.returncode == 0, out.stderr
    event = s.next_event()
    assert event["event"] == "note" and event["data"] == '{"n":1}'
    s.close()
    refused = run("publish", "--url", server.url, "--key", "wrong", "--topic", "cli",
                  "--data", "1")
    assert refused.returncode != 0
    assert "unauthorized" in refused.stdout


def test_bad_configuration_stops_startup_naming_the_key(tmp_path):
    cases = [
        ({"SSECAST_LIMITS_MAX_QUEUE_BYTES": "-5"}, "limits.max_queue_bytes"),
        ({"SSECAST_HTTP_LISTN": "x"}, "SSECAST_HTTP_LISTN"),
        ({"SSECAST_REDIS_URL": "http://nope"}, "redis.url"),
    ]
    for env, needle in cases:
        out = run("serve", env=env)
        assert out.returncode != 0
        assert needle in out.stderr, out.stderr
    bad = tmp_path / "bad.toml"
    bad.write_text("[http]\nlisten = \"127.0.0.1:1\"\nlistn = 3\n")
    out = run("serve", "--config", str(bad))
    assert out.returncode != 0 and "http.listn" in out.stderr
    out = run("serve", "--config", str(tmp_path / "missing.toml"))
    assert out.returncode != 0 and "missing.toml" in out.stderr


def test_example_config_starts(tmp_path):
    from pathlib import Path
    example = Path(__file__).resolve().parents[2] / "config" / "ssecast.example.toml"
    proc = subprocess.Popen([ssecast_bin(), "serve", "--config", str(example), "--listen",
                             "127.0.0.1:0"], stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            text=True)
    try:
        line = ""
        for _ in range(20):
            line = proc.stdout.readline()
            if "listening" in line:
                break
        assert "listening" in line
    finally:
        proc.terminate()
        assert proc.wait(timeout=10) == 0
