"""Real registries for tests: Debian's `docker-registry` on 127.0.0.1 (anonymous, htpasswd, token auth),
a token server that signs JWTs the registry verifies, and a misbehaving fake for error paths."""

from __future__ import annotations

import base64
import contextlib
import hashlib
import json
import shutil
import socket
import subprocess
import threading
import time
import uuid
import warnings
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx

SERVICE = "shareguard-test-registry"
ISSUER = "shareguard-test-issuer"


def registry_binary() -> str | None:
    return shutil.which("docker-registry") or shutil.which("registry")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def bcrypt_hash(password: str) -> str | None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        try:
            import crypt

            hashed = crypt.crypt(password, crypt.mksalt(crypt.METHOD_BLOWFISH))
            if hashed and hashed.startswith("$2"):
                return hashed
        except (ImportError, OSError, ValueError):
            pass
    tool = shutil.which("htpasswd")
    if tool:
        out = subprocess.run([tool, "-nbB", "u", password], capture_output=True, text=True, check=True).stdout
        return out.strip().split(":", 1)[1]
    return None


def _serve(handler: type[BaseHTTPRequestHandler]) -> tuple[ThreadingHTTPServer, str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, f"127.0.0.1:{server.server_address[1]}"


# -- the token server (docker distribution's token auth spec) ---------------------------------


def libtrust_key_id(der_spki: bytes) -> str:
    """The `kid` docker distribution derives from a trusted certificate's public key."""
    encoded = base64.b32encode(hashlib.sha256(der_spki).digest()[:30]).decode().rstrip("=")
    return ":".join(encoded[i : i + 4] for i in range(0, len(encoded), 4))


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


class TokenServer:
    """Issues RS256 JWTs for `repository:<name>:<actions>` scopes to one user (Basic auth)."""

    def __init__(self, workdir: Path, username: str, password: str) -> None:
        from cryptography import x509
        from cryptography.hazmat.primitives import hashes, serialization
        from cryptography.hazmat.primitives.asymmetric import rsa
        from cryptography.x509.oid import NameOID

        self.username, self.password = username, password
        self.key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "shareguard test token signer")])
        now = time.time()
        import datetime as dt

        cert = (
            x509.CertificateBuilder()
            .subject_name(name)
            .issuer_name(name)
            .public_key(self.key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(dt.datetime.fromtimestamp(now - 3600, dt.UTC))
            .not_valid_after(dt.datetime.fromtimestamp(now + 86400, dt.UTC))
            .sign(self.key, hashes.SHA256())
        )
        self.cert_path = workdir / "token-signer.pem"
        self.cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
        der = self.key.public_key().public_bytes(
            serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
        )
        self.kid = libtrust_key_id(der)
        self.requests: list[dict[str, Any]] = []
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def do_GET(self) -> None:
                query = parse_qs(urlsplit(self.path).query)
                auth = self.headers.get("Authorization", "")
                server.requests.append({"query": query, "auth": auth})
                expected = "Basic " + base64.b64encode(f"{server.username}:{server.password}".encode()).decode()
                if auth != expected:
                    self.send_response(401)
                    self.send_header("Content-Type", "application/json")
                    self.end_headers()
                    self.wfile.write(b'{"errors":[{"code":"UNAUTHORIZED","message":"bad credentials"}]}')
                    return
                token = server.sign(query.get("scope", []), query.get("service", [""])[0])
                body = json.dumps({"token": token, "expires_in": 300}).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        self._server, self.host = _serve(Handler)
        self.realm = f"http://{self.host}/token"

    def sign(self, scopes: list[str], audience: str) -> str:
        from cryptography.hazmat.primitives import hashes
        from cryptography.hazmat.primitives.asymmetric import padding

        access = []
        for scope in scopes:
            kind, _, rest = scope.partition(":")
            name, _, actions = rest.rpartition(":")
            access.append({"type": kind, "name": name, "actions": actions.split(",")})
        now = int(time.time())
        claims = {
            "iss": ISSUER,
            "sub": self.username,
            "aud": audience,
            "exp": now + 300,
            "nbf": now - 10,
            "iat": now,
            "jti": uuid.uuid4().hex,
            "access": access,
        }
        header = {"typ": "JWT", "alg": "RS256", "kid": self.kid}
        signing_input = f"{_b64url(json.dumps(header).encode())}.{_b64url(json.dumps(claims).encode())}"
        signature = self.key.sign(signing_input.encode(), padding.PKCS1v15(), hashes.SHA256())
        return f"{signing_input}.{_b64url(signature)}"

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()


# -- docker distribution ----------------------------------------------------------------------


@contextlib.contextmanager
def run_registry(
    workdir: Path,
    *,
    htpasswd: tuple[str, str] | None = None,
    token: TokenServer | None = None,
) -> Iterator[str]:
    """Start `docker-registry serve` on 127.0.0.1:<free port>; yields `host:port`."""
    binary = registry_binary()
    assert binary is not None
    workdir.mkdir(parents=True, exist_ok=True)
    port = free_port()
    lines = [
        "version: 0.1",
        "log:",
        "  level: error",
        "storage:",
        "  filesystem:",
        f"    rootdirectory: {workdir / 'storage'}",
        "http:",
        f"  addr: 127.0.0.1:{port}",
        f"  secret: {uuid.uuid4().hex}",
    ]
    if htpasswd is not None:
        hashed = bcrypt_hash(htpasswd[1])
        assert hashed is not None
        (workdir / "htpasswd").write_text(f"{htpasswd[0]}:{hashed}\n")
        lines += ["auth:", "  htpasswd:", "    realm: shareguard-test", f"    path: {workdir / 'htpasswd'}"]
    if token is not None:
        lines += [
            "auth:",
            "  token:",
            f"    realm: {token.realm}",
            f"    service: {SERVICE}",
            f"    issuer: {ISSUER}",
            f"    rootcertbundle: {token.cert_path}",
        ]
    config = workdir / "config.yml"
    config.write_text("\n".join(lines) + "\n")
    log = (workdir / "registry.log").open("wb")
    proc = subprocess.Popen([binary, "serve", str(config)], stdout=log, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 20
        while True:
            if proc.poll() is not None:
                raise RuntimeError(f"registry exited: {(workdir / 'registry.log').read_text()[-500:]}")
            try:
                if httpx.get(f"http://127.0.0.1:{port}/v2/", timeout=1).status_code in (200, 401):
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError("registry did not start within 20 s")
            time.sleep(0.1)
        yield f"127.0.0.1:{port}"
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.close()


# -- a misbehaving registry -------------------------------------------------------------------

Route = Callable[[BaseHTTPRequestHandler], tuple[int, dict[str, str], bytes]]


@contextlib.contextmanager
def fake_registry(routes: dict[str, Route]) -> Iterator[str]:
    """Serve `routes` (path prefix → response); anything else is a 404 with a registry error body."""

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: Any) -> None:
            pass

        def _answer(self, head: bool) -> None:
            path = urlsplit(self.path).path
            for prefix, route in routes.items():
                if path.startswith(prefix):
                    status, headers, body = route(self)
                    break
            else:
                status, headers, body = (
                    404,
                    {"Content-Type": "application/json"},
                    b'{"errors":[{"code":"NOT_FOUND","message":"no"}]}',
                )
            self.send_response(status)
            for k, v in headers.items():
                self.send_header(k, v)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            if not head:
                self.wfile.write(body)

        def do_GET(self) -> None:
            self._answer(False)

        def do_HEAD(self) -> None:
            self._answer(True)

    server, host = _serve(Handler)
    try:
        yield host
    finally:
        server.shutdown()
        server.server_close()
