# SPDX-License-Identifier: MIT
# Redis mode over TLS, SPEC §Redis in production (#15): rediss:// against a real
# `redis-server --tls-port` with a CA this test makes with openssl; a trusted CA works across
# two instances (with client certificates and a password), an untrusted certificate and a
# wrong server name are refused (tls_failed, 503) and nothing is sent in the clear.
import re
import subprocess
import tempfile
import time
from pathlib import Path

import pytest
import requests

from conftest import RUN_DIR, Server, free_port, instance_env, wait_until
from test_redis_auth import ready, status
from redis_support import auth


def openssl(*args, cwd):
    subprocess.run(["openssl", *args], cwd=cwd, check=True, capture_output=True, timeout=30)


def make_ca(d: Path, name: str):
    openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
            "-keyout", f"{name}.key", "-out", f"{name}.crt", "-subj", f"/CN={name}", cwd=d)


def make_cert(d: Path, ca: str, name: str, san: str):
    openssl("req", "-newkey", "rsa:2048", "-nodes", "-keyout", f"{name}.key",
            "-out", f"{name}.csr", "-subj", f"/CN={name}", cwd=d)
    (d / f"{name}.ext").write_text(f"subjectAltName={san}\n")
    openssl("x509", "-req", "-in", f"{name}.csr", "-CA", f"{ca}.crt", "-CAkey", f"{ca}.key",
            "-CAcreateserial", "-days", "2", "-out", f"{name}.crt", "-extfile", f"{name}.ext",
            cwd=d)


class TlsRedis:
    """redis-server with TLS only (--port 0), client certificates required, a password."""

    PASSWORD = "tls-pw-0123456789"

    def __init__(self, d: Path, cert="server"):
        self.dir = d
        self.cert = cert  # "rogue": a certificate our CA never signed
        self.port = free_port()
        self.proc = None

    def start(self):
        d = self.dir
        self.proc = subprocess.Popen(
            ["redis-server", "--port", "0", "--tls-port", str(self.port), "--bind", "127.0.0.1",
             "--tls-cert-file", str(d / f"{self.cert}.crt"),
             "--tls-key-file", str(d / f"{self.cert}.key"),
             "--tls-ca-cert-file", str(d / "ca.crt"), "--tls-auth-clients", "yes",
             "--requirepass", self.PASSWORD, "--save", "", "--appendonly", "no",
             "--dir", str(d)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wait_until(lambda: self.cli("PING") == "PONG", timeout=10, what="TLS redis-server")
        return self

    def cli(self, *args) -> str:
        d = self.dir
        trust = ["--cacert", str(d / "ca.crt")] if self.cert == "server" else ["--insecure"]
        out = subprocess.run(["redis-cli", "-p", str(self.port), "--tls", *trust, "--cert", str(d / "client.crt"), "--key",
                              str(d / "client.key"), "-a", self.PASSWORD, "--no-auth-warning",
                              *args], capture_output=True, text=True, timeout=10)
        return out.stdout.strip()

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(timeout=10)


@pytest.fixture(scope="module")
def pki():
    d = Path(tempfile.mkdtemp(prefix="tls-", dir=RUN_DIR))
    make_ca(d, "ca")
    make_ca(d, "other-ca")  # trusted by nobody
    make_cert(d, "ca", "server", "DNS:redis.test,DNS:localhost,IP:127.0.0.1")
    make_cert(d, "ca", "client", "DNS:ssecast")
    make_cert(d, "other-ca", "rogue", "DNS:redis.test,IP:127.0.0.1")
    return d


@pytest.fixture
def tls_redis(pki):
    r = TlsRedis(pki).start()
    yield r
    r.stop()


def auth_calls(r) -> int:
    m = re.search(r"cmdstat_auth:calls=(\d+)", r.cli("INFO", "commandstats"))
    return int(m.group(1)) if m else 0


def tls_env(r, i, pki, **extra):
    env = instance_env(f"rediss://:{r.PASSWORD}@127.0.0.1:{r.port}", i,
                    SSECAST_REDIS_TLS_CA_FILE=str(pki / "ca.crt"),
                    SSECAST_REDIS_TLS_CERT_FILE=str(pki / "client.crt"),
                    SSECAST_REDIS_TLS_KEY_FILE=str(pki / "client.key"))
    env.update(extra)
    return env


def test_trusted_ca_works_across_two_instances(tls_redis, pki):
    a = Server(env=tls_env(tls_redis, 0, pki, SSECAST_REDIS_TLS_SERVER_NAME="redis.test"))
    b = Server(env=tls_env(tls_redis, 1, pki))  # the URL's host: the IP SAN is checked
    servers = [a.start(), b.start()]
    try:
        for s in servers:
            wait_until(lambda: ready(s), timeout=15, what=f"{s.url} ready over TLS")
            assert status(s) == "connected"
        live = b.subscribe("secure", headers=auth("alice"))
        first = a.publish({"topic": "secure", "data": "one"})
        assert first.status_code == 200, first.text
        assert live.next_event()["data"] == "one"
        second = a.publish({"topic": "secure", "data": "two"}).json()["id"]
        resumed = a.subscribe("secure", headers={**auth("bob"),
                                                 "Last-Event-ID": first.json()["id"]})
        assert resumed.next_event()["id"] == second
        assert live.next_event()["id"] == second
        wait_until(lambda: a.admin().json()["global"]["connections"] == 2, timeout=5)
        # Large replies and writes span many TLS records and reads: 8 events of 60 KB in
        # one publish (one ~500 KB script call), delivered live and replayed.
        big = [{"topic": "secure", "data": f"{i}" + "x" * 60000} for i in range(8)]
        ids = a.publish(big).json()["ids"]
        got = [live.next_event() for _ in big]
        assert [e["id"] for e in got] == ids and [e["data"] for e in got] == [
            e["data"] for e in big]
        replayed = b.subscribe("secure", headers={**auth("carol"), "Last-Event-ID": second})
        assert [replayed.next_event()["id"] for _ in big] == ids
        replayed.close()
        live.close()
        resumed.close()
        # Every client of this Redis came over TLS with our client certificate (the server
        # has no plain port at all) and is authenticated.
        clients = tls_redis.cli("CLIENT", "LIST")
        assert clients.count("\n") + 1 >= 6, clients  # 3 connections × 2 instances (+ cli)
        assert "TLS" in a.logs() and "redis: rediss://:***@127.0.0.1" in a.logs()
    finally:
        for s in servers:
            s.stop()


@pytest.mark.parametrize("case", ["untrusted_ca", "rogue_server_cert", "wrong_name",
                                  "plaintext_port"])
def test_bad_tls_is_refused(pki, case):
    r = TlsRedis(pki, cert="rogue" if case == "rogue_server_cert" else "server")
    try:
        r.start()
        extra = {"untrusted_ca": {"SSECAST_REDIS_TLS_CA_FILE": str(pki / "other-ca.crt")},
                 "rogue_server_cert": {},
                 "wrong_name": {"SSECAST_REDIS_TLS_SERVER_NAME": "wrong.example"},
                 "plaintext_port": {}}[case]
        env = tls_env(r, 0, pki, **extra)
        if case == "plaintext_port":  # TLS client against a plain Redis: no handshake
            plain = free_port()
            proc = subprocess.Popen(["redis-server", "--port", str(plain), "--bind",
                                     "127.0.0.1", "--save", ""], stdout=subprocess.DEVNULL)
            env["SSECAST_REDIS_URL"] = f"rediss://:{r.PASSWORD}@127.0.0.1:{plain}"
        s = Server(env=env).start()
        try:
            wait_until(lambda: status(s) == "tls_failed", timeout=10, what="tls_failed")
            assert requests.get(s.url + "/readyz", timeout=2).status_code == 503
            pub = s.publish({"topic": "t", "data": "x"})
            assert pub.status_code == 503, pub.text
            logs = s.logs()
            assert "TLS handshake" in logs, logs
            if case in ("untrusted_ca", "rogue_server_cert"):
                assert "certificate verify failed" in logs, logs
            if case == "wrong_name":
                assert "hostname mismatch" in logs, logs
            assert r.PASSWORD not in logs
            # Refused before any Redis command: the password never crossed the wire (the
            # only AUTHs Redis counts are redis-cli's own, one per call).
            if case != "plaintext_port":
                before = auth_calls(r)
                time.sleep(1.5)  # several more attempts by ssecast
                assert auth_calls(r) == before + 1
        finally:
            s.stop()
            if case == "plaintext_port":
                proc.terminate()
                proc.wait(timeout=10)
    finally:
        r.stop()
