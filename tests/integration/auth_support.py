# SPDX-License-Identifier: MIT
# Identity-test support: key pairs made by the test (python3-cryptography), tokens signed
# with them (PyJWT), and a small HTTP server on 127.0.0.1 that plays a JWKS endpoint or an
# application's connect hook, with switches for "down", "slow" and "garbage".
import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
from jwt.algorithms import ECAlgorithm, OKPAlgorithm, RSAAlgorithm


class Key:
    """A private key of one type with its kid; `jwk()` is its public JWK."""

    def __init__(self, kind, kid):
        self.kind, self.kid = kind, kid
        if kind == "RS256":
            self.private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
            self._alg = RSAAlgorithm
        elif kind == "ES256":
            self.private = ec.generate_private_key(ec.SECP256R1())
            self._alg = ECAlgorithm
        else:
            self.private = ed25519.Ed25519PrivateKey.generate()
            self._alg = OKPAlgorithm
        self.public = self.private.public_key()

    def jwk(self, **extra):
        d = json.loads(self._alg.to_jwk(self.public))
        d.update({"kid": self.kid, **extra})
        return d

    def public_pem(self) -> bytes:
        return self.public.public_bytes(serialization.Encoding.PEM,
                                        serialization.PublicFormat.SubjectPublicKeyInfo)

    def token(self, sub="alice", kid=None, alg=None, **claims):
        headers = {"kid": self.kid if kid is None else kid}
        return jwt.encode({"sub": sub, **claims}, self.private, algorithm=alg or self.kind,
                          headers=headers)


class FakeHttpServer:
    """A threaded HTTP server on 127.0.0.1. `handler(method, path, headers, body)` returns
    (status, body_bytes_or_obj); `mode` switches to "down" (connection closed at once),
    "slow" (answers after `delay` seconds) or "normal". Records every request."""

    def __init__(self, handler, tls=None):
        self.handler = handler
        self.mode = "normal"
        self.delay = 5.0
        self.requests = []
        self.lock = threading.Lock()
        outer = self

        class H(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def _serve(self):
                n = int(self.headers.get("content-length", "0"))
                body = self.rfile.read(n) if n else b""
                with outer.lock:
                    outer.requests.append({"method": self.command, "path": self.path,
                                           "headers": dict(self.headers), "body": body,
                                           "at": time.monotonic()})
                    mode = outer.mode
                if mode == "down":
                    self.close_connection = True
                    self.connection.close()
                    return
                if mode == "slow":
                    time.sleep(outer.delay)
                status, payload = outer.handler(self.command, self.path, self.headers, body)
                if not isinstance(payload, (bytes, str)):
                    payload = json.dumps(payload)
                if isinstance(payload, str):
                    payload = payload.encode()
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(payload)))
                    self.send_header("Connection", "close")
                    self.end_headers()
                    self.wfile.write(payload)
                except OSError:
                    pass

            do_GET = _serve
            do_POST = _serve

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), H)
        self.httpd.daemon_threads = True
        self.port = self.httpd.server_address[1]
        scheme = "http"
        if tls:  # (certfile, keyfile): serve https
            import ssl
            ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            ctx.load_cert_chain(*tls)
            self.httpd.socket = ctx.wrap_socket(self.httpd.socket, server_side=True)
            scheme = "https"
        self.url = f"{scheme}://127.0.0.1:{self.port}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def start(self):
        self.thread.start()
        return self

    def count(self):
        with self.lock:
            return len(self.requests)

    def stop(self):
        self.httpd.shutdown()
        self.httpd.server_close()


class JwksServer(FakeHttpServer):
    """Serves {"keys": [...]} from `self.keys` (a list of JWK dicts), or `self.raw`."""

    def __init__(self, keys=(), tls=None):
        self.keys = list(keys)
        self.raw = None
        super().__init__(lambda m, p, h, b: (200, self.raw if self.raw is not None
                                             else {"keys": self.keys}), tls=tls)


def make_tls_files(directory, names=("127.0.0.1",)):
    """A throwaway CA and a server certificate for `names` (IPs or DNS names) signed by it.
    Returns (ca_pem_path, cert_path, key_path)."""
    import datetime
    import ipaddress
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes
    from cryptography.x509.oid import NameOID

    now = datetime.datetime.utcnow()

    def cert(subject, issuer, public, signer, ca, sans=()):
        b = (x509.CertificateBuilder().subject_name(subject).issuer_name(issuer)
             .public_key(public).serial_number(x509.random_serial_number())
             .not_valid_before(now - datetime.timedelta(minutes=5))
             .not_valid_after(now + datetime.timedelta(days=1))
             .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True))
        if sans:
            b = b.add_extension(x509.SubjectAlternativeName(list(sans)), critical=False)
        return b.sign(signer, hashes.SHA256())

    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "ssecast test CA")])
    ca = cert(ca_name, ca_name, ca_key.public_key(), ca_key, True)
    key = ec.generate_private_key(ec.SECP256R1())
    sans = []
    for n in names:
        try:
            sans.append(x509.IPAddress(ipaddress.ip_address(n)))
        except ValueError:
            sans.append(x509.DNSName(n))
    leaf = cert(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, names[0])]), ca_name,
                key.public_key(), ca_key, False, sans)
    paths = [directory / "ca.pem", directory / "server.pem", directory / "server.key"]
    paths[0].write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    paths[1].write_bytes(leaf.public_bytes(serialization.Encoding.PEM))
    paths[2].write_bytes(key.private_bytes(serialization.Encoding.PEM,
                                           serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return tuple(str(p) for p in paths)
