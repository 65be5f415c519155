# SPDX-License-Identifier: MIT
# Bad credentials (issue #7 §3): malformed or foreign JWTs on publish and admin, roles that
# must not leak into each other, bytes after a NUL. (401 for bad subscriber tokens is in
# test_core_subscribe.py.)
import time

import jwt

from conftest import make_token, ADMIN_TOKEN, JWT_SECRET, PUBLISH_KEY


# --- tokens on publish and admin ----------------------------------------------------------------
def test_bad_jwts_on_publish_and_admin_are_401(server):
    now = int(time.time())
    claims = {"publish": ["*"], "admin": True}
    bad = {
        "alg none": jwt.encode({"sub": "eve", **claims}, None, algorithm="none"),
        "HS512": make_token("eve", algorithm="HS512", **claims),
        "HS384": make_token("eve", algorithm="HS384", **claims),
        "expired": make_token("eve", exp=now - 5, **claims),
        "not yet valid": make_token("eve", nbf=now + 3600, **claims),
        "wrong key": make_token("eve", secret="another-secret-of-enough-length!", **claims),
        "no sub": jwt.encode(claims, JWT_SECRET, algorithm="HS256"),
    }
    for what, t in bad.items():
        r = server.publish({"topic": "t", "data": 1}, key=t)
        assert r.status_code == 401, what
        assert r.json()["error"] == "unauthorized"
        assert server.admin(token=t).status_code == 401, what
    # The same claims, correctly signed, are accepted: the refusals above were the token's.
    good = make_token("eve", **claims)
    assert server.publish({"topic": "t", "data": 1}, key=good).status_code == 200
    assert server.admin(token=good).status_code == 200


def test_roles_do_not_leak_into_each_other(server):
    """A publish key is not an admin credential, the admin token is not a publish key, and
    an admin JWT without a `publish` claim publishes nowhere."""
    assert server.admin(token=PUBLISH_KEY).status_code == 401
    assert server.publish({"topic": "t", "data": 1}, key=ADMIN_TOKEN).status_code == 401
    admin_jwt = make_token("root", admin=True)
    assert server.admin(token=admin_jwt).status_code == 200
    r = server.publish({"topic": "t", "data": 1}, key=admin_jwt)
    assert r.status_code == 403 and r.json()["error"] == "forbidden"
    # A user token is neither.
    assert server.admin(token=make_token("eve")).status_code == 401
    assert server.publish({"topic": "t", "data": 1}, key=make_token("eve")).status_code == 403


def test_token_with_bytes_after_a_nul_is_401(server):
    """A valid token followed by %00 and anything: the whole token must be verified."""
    t = make_token("mallory")
    s = server.subscribe("t", query="access_token=" + t + "%00anything-at-all")
    status = s.status
    s.close()
    assert status == 401
