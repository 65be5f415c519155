# SPDX-License-Identifier: MIT
# SPEC §Keys: RS256/ES256/EdDSA tokens verified with keys from auth.jwks_file and
# auth.jwks_url (rotation while running, refresh on an unknown kid at most once per
# jwks_min_refresh_seconds, an unreachable endpoint that lets nothing through and blocks no
# event loop), algorithm confusion, issuer and audience.
import base64
import json
import subprocess
import time

import jwt
import pytest
import requests

from auth_support import JwksServer, Key, make_tls_files
from conftest import CheckedThread, JWT_SECRET, make_token, ssecast_bin, wait_until


@pytest.fixture(scope="module")
def keys():
    return {k: Key(k, f"{k.lower()}-1") for k in ("RS256", "ES256", "EdDSA")}


@pytest.fixture
def jwks():
    s = JwksServer().start()
    yield s
    s.stop()


def status(server, token, topic="t"):
    """Status of GET /events with `token` (the stream is closed at once)."""
    s = server.subscribe(topic, headers={"Authorization": f"Bearer {token}"})
    code = s.status
    s.close()
    return code


def b64(obj):
    raw = json.dumps(obj).encode() if not isinstance(obj, bytes) else obj
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def test_jwks_file_keys_verify_their_own_tokens_only(make_server, keys, tmp_path):
    path = tmp_path / "jwks.json"
    path.write_text(json.dumps({"keys": [k.jwk() for k in keys.values()]}))
    srv = make_server(env={"SSECAST_AUTH_JWKS_FILE": str(path),
                           "SSECAST_AUTH_ALLOW_ANONYMOUS": "false"}).start()
    for k in keys.values():
        assert status(srv, k.token()) == 200, k.kind
        # Another key of the same type under this kid: refused.
        assert status(srv, Key(k.kind, k.kid).token()) == 401, k.kind
    # The stream works end to end with a public-key identity and its users targeting.
    s = srv.subscribe("t", headers={"Authorization": f"Bearer {keys['ES256'].token('bob')}"})
    srv.publish({"topic": "t", "data": "for bob", "users": ["bob"]})
    assert s.next_event()["data"] == "for bob"
    s.close()
    # HS256 keeps working beside the keys.
    assert status(srv, make_token("h")) == 200


def test_a_bad_jwks_file_stops_start_up_naming_the_key(tmp_path):
    bad = tmp_path / "bad.json"
    bad.write_text('{"keys": [{"kty": "oct", "k": "c2VjcmV0"}]}')
    for content, needle in [(None, "cannot read"), ("not json", "not a JWKS"),
                            (bad.read_text(), "no usable key")]:
        path = tmp_path / "jwks.json"
        if content is not None:
            path.write_text(content)
        elif path.exists():
            path.unlink()
        out = subprocess.run([ssecast_bin(), "serve", "--listen", "127.0.0.1:0"],
                             env={"SSECAST_AUTH_JWKS_FILE": str(path)}, capture_output=True,
                             text=True, timeout=20)
        assert out.returncode != 0
        assert "auth.jwks_file" in out.stderr and needle in out.stderr, out.stderr


def test_https_jwks_url_with_a_verified_certificate(make_server, keys, tmp_path):
    ca, cert, key = make_tls_files(tmp_path)
    jwks = JwksServer([keys["RS256"].jwk()], tls=(cert, key)).start()
    try:
        assert jwks.url.startswith("https://127.0.0.1:")
        srv = make_server(env={"SSECAST_AUTH_JWKS_URL": jwks.url + "/jwks",
                               "SSECAST_AUTH_TLS_CA_FILE": ca}).start()
        assert status(srv, keys["RS256"].token()) == 200
        # Without our CA (the system's CAs only) the certificate is not trusted: no key,
        # so the same token is refused.
        other = make_server(env={"SSECAST_AUTH_JWKS_URL": jwks.url + "/jwks"}).start()
        assert status(other, keys["RS256"].token()) == 401
        assert "auth.jwks_url: fetch from" in other.logs()
    finally:
        jwks.stop()


def test_https_certificate_for_another_name_is_refused(make_server, keys, tmp_path):
    ca, cert, key = make_tls_files(tmp_path, names=("jwks.example.com",))
    jwks = JwksServer([keys["ES256"].jwk()], tls=(cert, key)).start()
    try:
        srv = make_server(env={"SSECAST_AUTH_JWKS_URL": jwks.url,
                               "SSECAST_AUTH_TLS_CA_FILE": ca}).start()
        assert status(srv, keys["ES256"].token()) == 401
    finally:
        jwks.stop()


def test_a_missing_ca_file_stops_start_up_naming_the_key(tmp_path):
    out = subprocess.run([ssecast_bin(), "serve", "--listen", "127.0.0.1:0"],
                         env={"SSECAST_AUTH_JWKS_URL": "https://127.0.0.1:1/jwks",
                              "SSECAST_AUTH_TLS_CA_FILE": str(tmp_path / "missing.pem")},
                         capture_output=True, text=True, timeout=20)
    assert out.returncode != 0
    assert "auth.tls_ca_file" in out.stderr, out.stderr


def test_jwks_url_rotation_while_running(make_server, keys, jwks):
    old, new = keys["RS256"], Key("RS256", "rs256-2")
    jwks.keys = [old.jwk()]
    srv = make_server(env={"SSECAST_AUTH_JWKS_URL": jwks.url + "/jwks.json",
                           "SSECAST_AUTH_JWKS_MIN_REFRESH_SECONDS": "1"}).start()
    assert jwks.count() >= 1  # fetched at start
    assert status(srv, old.token()) == 200
    # The provider publishes the new key beside the old one, then signs with it: the
    # unknown kid makes ssecast refetch, once, and the token passes on the first try.
    jwks.keys = [old.jwk(), new.jwk()]
    time.sleep(1.1)
    before = jwks.count()
    assert status(srv, new.token()) == 200
    assert jwks.count() == before + 1
    # The old key is withdrawn: after the next refresh its tokens are refused.
    jwks.keys = [new.jwk()]
    time.sleep(1.1)
    assert status(srv, Key("RS256", "rs256-3").token()) == 401  # unknown kid → refetch
    assert status(srv, old.token()) == 401
    assert status(srv, new.token()) == 200


def test_unknown_kids_refetch_at_most_once_per_min_refresh(make_server, keys, jwks):
    jwks.keys = [keys["ES256"].jwk()]
    srv = make_server(env={"SSECAST_AUTH_JWKS_URL": jwks.url,
                           "SSECAST_AUTH_JWKS_MIN_REFRESH_SECONDS": "30"}).start()
    start = jwks.count()
    for i in range(20):
        assert status(srv, Key("ES256", f"nope-{i}").token()) == 401
    # The first unknown kid came within 30 s of the start-up fetch: no refetch at all.
    assert jwks.count() == start


def test_unreachable_or_garbage_jwks_lets_nothing_through(make_server, keys, jwks):
    jwks.mode = "down"
    srv = make_server(env={"SSECAST_AUTH_JWKS_URL": jwks.url,
                           "SSECAST_AUTH_JWKS_MIN_REFRESH_SECONDS": "1",
                           "SSECAST_AUTH_ALLOW_ANONYMOUS": "true"}).start()
    k = keys["EdDSA"]
    assert status(srv, k.token()) == 401
    assert status(srv, make_token("h")) == 200  # HS256 does not depend on the JWKS
    for raw in ["not json", '{"keys": "x"}', json.dumps({"keys": [{"kty": "XYZ"}]}),
                json.dumps({"keys": [dict(k.jwk(), x=b64(b"short"))]})]:
        jwks.mode, jwks.raw = "normal", raw
        time.sleep(1.1)
        assert status(srv, k.token()) == 401, raw
    assert srv.proc.poll() is None
    # Good document again: the same token passes, nothing restarted.
    jwks.raw = None
    jwks.keys = [k.jwk()]
    time.sleep(1.1)
    assert status(srv, k.token()) == 200
    logs = srv.logs()
    assert logs.count("auth.jwks_url: fetch from") <= 3, logs  # once per failure streak


def test_a_slow_jwks_endpoint_blocks_no_event_loop(make_server, keys, jwks):
    jwks.keys = [keys["RS256"].jwk()]
    srv = make_server(env={"SSECAST_AUTH_JWKS_URL": jwks.url,
                           "SSECAST_AUTH_JWKS_MIN_REFRESH_SECONDS": "1",
                           "SSECAST_AUTH_JWKS_TIMEOUT_MS": "3000",
                           "SSECAST_HTTP_THREADS": "1"}).start()
    jwks.mode, jwks.delay = "slow", 2.5
    time.sleep(1.1)
    done = {}

    def slow_subscribe():
        done["status"] = status(srv, Key("RS256", "rotated").token())
        done["at"] = time.monotonic()

    t = CheckedThread(slow_subscribe)
    t.start()
    wait_until(lambda: jwks.count() >= 2, timeout=5, what="the refetch to start")
    # One shard only: while its subscribe waits for the JWKS, it still serves others.
    assert requests.get(srv.url + "/healthz", timeout=2).status_code == 200
    answered = time.monotonic()
    assert status(srv, make_token("h")) == 200
    t.join(timeout=10)
    assert done["status"] == 401
    assert answered < done["at"]


def test_algorithm_confusion_is_refused(make_server, keys, tmp_path):
    path = tmp_path / "jwks.json"
    path.write_text(json.dumps({"keys": [k.jwk() for k in keys.values()]}))
    srv = make_server(env={"SSECAST_AUTH_JWKS_FILE": str(path)}).start()
    rsa_key, ec_key = keys["RS256"], keys["ES256"]
    claims = {"sub": "mallory", "admin": True}
    # HS256 signed with the public key (PEM, or the JWK's n) as the HMAC secret. PyJWT
    # refuses a PEM as an HMAC secret itself, so sign by hand.
    import hashlib
    import hmac
    forged = []
    for secret in [rsa_key.public_pem(), rsa_key.jwk()["n"].encode()]:
        header = b64({"alg": "HS256", "typ": "JWT", "kid": rsa_key.kid})
        body = b64(claims)
        sig = hmac.new(secret, f"{header}.{body}".encode(), hashlib.sha256).digest()
        forged.append(f"{header}.{body}.{b64(sig)}")
        assert status(srv, forged[-1]) == 401
    # alg none with a real kid, with and without a signature part.
    for tail in ["", b64(b"sig")]:
        token = f"{b64({'alg': 'none', 'kid': rsa_key.kid})}.{b64(claims)}.{tail}"
        assert status(srv, token) == 401
    # A header naming one algorithm for the kid of a key of another type.
    assert status(srv, Key("ES256", rsa_key.kid).token()) == 401
    assert status(srv, Key("RS256", ec_key.kid).token()) == 401
    # The right key, the wrong alg name in the header (RS384 is not the key's algorithm).
    assert status(srv, jwt.encode(claims, rsa_key.private, algorithm="RS384",
                                  headers={"kid": rsa_key.kid})) == 401
    # None of these reached the admin API either.
    for token in forged:
        assert srv.admin(token=token).status_code == 401
    assert srv.admin(token=rsa_key.token(admin=True)).status_code == 200


def test_issuer_and_audience(make_server, keys, tmp_path):
    path = tmp_path / "jwks.json"
    path.write_text(json.dumps({"keys": [keys["ES256"].jwk()]}))
    srv = make_server(env={"SSECAST_AUTH_JWKS_FILE": str(path),
                           "SSECAST_AUTH_JWT_ISSUER": "https://id.example",
                           "SSECAST_AUTH_JWT_AUDIENCE": "ssecast"}).start()
    k = keys["ES256"]
    assert status(srv, k.token(iss="https://id.example", aud="ssecast")) == 200
    assert status(srv, k.token(iss="https://id.example", aud=["web", "ssecast"])) == 200
    assert status(srv, k.token(iss="https://id.example", aud="web")) == 401
    assert status(srv, k.token(iss="https://evil.example", aud="ssecast")) == 401
    assert status(srv, k.token(aud="ssecast")) == 401
    assert status(srv, k.token(iss="https://id.example")) == 401
    # The issuer rule applies to HS256 tokens too.
    assert status(srv, make_token("h")) == 401
    assert status(srv, make_token("h", iss="https://id.example", aud="ssecast")) == 200


def test_publish_with_a_rotated_key_refetches_too(make_server, keys, jwks):
    old, new = keys["EdDSA"], Key("EdDSA", "eddsa-2")
    jwks.keys = [old.jwk()]
    srv = make_server(env={"SSECAST_AUTH_JWKS_URL": jwks.url,
                           "SSECAST_AUTH_JWKS_MIN_REFRESH_SECONDS": "1"}).start()
    assert srv.publish({"topic": "t", "data": 1}, key=old.token(publish=["t"])).status_code == 200
    assert srv.publish({"topic": "t", "data": 1}, key=new.token(publish=["t"])).status_code == 401
    jwks.keys = [old.jwk(), new.jwk()]
    time.sleep(1.1)
    assert srv.publish({"topic": "t", "data": 2}, key=new.token(publish=["t"])).status_code == 200
