"""A small OCI distribution API client on httpx: manifests, blobs (streamed, digest-checked), uploads.

Auth follows the registry's `WWW-Authenticate` challenge: Basic with the credentials, or the Bearer
token flow (ask the realm for a token for the repository scope, with the credentials if any).
Plain HTTP is used only with `insecure=True`. Every failure is a one-line RegistryError.
"""

from __future__ import annotations

import base64
import ipaddress
import json
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any
from urllib.parse import urljoin, urlsplit

import httpx

from shareguard.core.errors import RegistryError
from shareguard.sources.image.digest import digest_of
from shareguard.sources.image.mediatypes import ACCEPT_MANIFESTS
from shareguard.sources.registry.auth import Credentials, parse_challenge
from shareguard.sources.registry.reference import Reference

USER_AGENT = "shareguard (+https://github.com/shareguard)"
MAX_ERROR_BYTES = 64 * 1024
CHUNK = 1 << 20


def is_loopback(host: str) -> bool:
    name = host.rsplit(":", 1)[0] if not host.startswith("[") else host[1 : host.find("]")]
    if name == "localhost":
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False


class _StreamReader:
    """`read(n)` over an httpx streaming response (what the layer pipeline consumes)."""

    def __init__(self, response: httpx.Response, what: str) -> None:
        self._it = response.iter_bytes(CHUNK)
        self._buf = b""
        self._what = what

    def read(self, n: int = -1) -> bytes:
        try:
            while not self._buf:
                self._buf = next(self._it)
        except StopIteration:
            return b""
        except httpx.HTTPError as exc:
            raise OSError(f"{self._what}: transfer failed ({type(exc).__name__})") from None
        if n < 0 or n >= len(self._buf):
            out, self._buf = self._buf, b""
        else:
            out, self._buf = self._buf[:n], self._buf[n:]
        return out


def _error_message(response: httpx.Response, body: bytes) -> str:
    detail = ""
    try:
        doc = json.loads(body[:MAX_ERROR_BYTES])
        errors = doc.get("errors") if isinstance(doc, dict) else None
        if isinstance(errors, list) and errors and isinstance(errors[0], dict):
            e = errors[0]
            detail = f"{e.get('code', '')}: {e.get('message', '')}".strip(": ")
    except (ValueError, UnicodeDecodeError):
        pass
    return f"HTTP {response.status_code} {response.reason_phrase}" + (f" ({detail[:200]})" if detail else "")


class RegistryClient:
    def __init__(
        self,
        reference: Reference,
        credentials: Credentials | None = None,
        *,
        insecure: bool = False,
        timeout: float = 60.0,
        push: bool = False,
    ) -> None:
        self.reference = reference
        self.credentials = credentials
        self.insecure = insecure
        self.scheme = "http" if insecure else "https"
        self.base = f"{self.scheme}://{reference.api_host}"
        self._scope = f"repository:{reference.repository}:{'pull,push' if push else 'pull'}"
        self._auth: str | None = None
        self._http = httpx.Client(
            timeout=httpx.Timeout(timeout, connect=min(timeout, 15.0)),
            follow_redirects=True,
            headers={"User-Agent": USER_AGENT},
            # Honour HTTP(S)_PROXY / NO_PROXY like docker does, except for loopback registries.
            trust_env=not is_loopback(reference.api_host),
        )

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> RegistryClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- requests with auth -----------------------------------------------------------------------
    def url(self, path: str) -> str:
        return f"{self.base}/v2/{self.reference.repository}/{path}"

    def _send(self, method: str, url: str, headers: dict[str, str], content: Any, stream: bool) -> httpx.Response:
        all_headers = dict(headers)
        if self._auth:
            all_headers["Authorization"] = self._auth
        request = self._http.build_request(method, url, headers=all_headers, content=content)
        try:
            return self._http.send(request, stream=stream)
        except httpx.HTTPError as exc:
            raise RegistryError(f"{self.reference.api_host}: {type(exc).__name__}: {str(exc)[:200]}") from None

    def request(
        self, method: str, url: str, *, headers: dict[str, str] | None = None, content: Any = None, stream: bool = False
    ) -> httpx.Response:
        hdrs = headers or {}
        response = self._send(method, url, hdrs, content, stream)
        if response.status_code == 401 and self._authenticate(response):
            response.close()
            response = self._send(method, url, hdrs, content, stream)
        return response

    def _authenticate(self, response: httpx.Response) -> bool:
        challenge = parse_challenge(response.headers.get("www-authenticate", ""))
        if challenge is None:
            return False
        if challenge.scheme == "basic":
            if self.credentials is None or self._auth is not None:
                return False
            self._auth = (
                "Basic "
                + base64.b64encode(f"{self.credentials.username}:{self.credentials.password}".encode()).decode()
            )
            return True
        if challenge.scheme != "bearer" or (self._auth is not None and self._auth.startswith("Bearer ")):
            return False
        self._auth = "Bearer " + self._token(challenge.params)
        return True

    def _token(self, params: dict[str, str]) -> str:
        realm = params.get("realm", "")
        parts = urlsplit(realm)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise RegistryError(f"{self.reference.api_host}: token realm {realm[:100]!r} is not an http(s) URL")
        if parts.scheme == "http" and not (self.insecure or is_loopback(parts.netloc)):
            raise RegistryError(
                f"{self.reference.api_host}: refusing a plain-HTTP token realm without --insecure-registry"
            )
        query: dict[str, str] = {}
        if params.get("service"):
            query["service"] = params["service"]
        query["scope"] = self._scope
        auth = None
        if self.credentials is not None:
            auth = httpx.BasicAuth(self.credentials.username, self.credentials.password)
        try:
            resp = self._http.get(realm, params=query, auth=auth)
        except httpx.HTTPError as exc:
            raise RegistryError(f"token service {parts.netloc}: {type(exc).__name__}: {str(exc)[:200]}") from None
        if resp.status_code != 200:
            raise RegistryError(f"token service {parts.netloc}: {_error_message(resp, resp.content)}")
        try:
            doc = resp.json()
            token = doc.get("token") or doc.get("access_token")
        except (ValueError, AttributeError):
            token = None
        if not isinstance(token, str) or not token or any(c in token for c in "\r\n"):
            raise RegistryError(f"token service {parts.netloc}: answer holds no token")
        return token

    def _check(self, response: httpx.Response, what: str) -> None:
        if response.status_code < 400:
            return
        body = response.read()[:MAX_ERROR_BYTES] if not response.is_closed else b""
        response.close()
        raise RegistryError(f"{self.reference.api_host}: {what}: {_error_message(response, body)}")

    def _read_limited(self, response: httpx.Response, limit: int, what: str) -> bytes:
        chunks: list[bytes] = []
        total = 0
        try:
            for chunk in response.iter_bytes(CHUNK):
                total += len(chunk)
                if total > limit:
                    raise RegistryError(f"{self.reference.api_host}: {what} is over the {limit}-byte limit")
                chunks.append(chunk)
        except httpx.HTTPError as exc:
            raise RegistryError(f"{self.reference.api_host}: {what}: transfer failed ({type(exc).__name__})") from None
        finally:
            response.close()
        return b"".join(chunks)

    # -- API ----------------------------------------------------------------------------------
    def get_manifest(self, ref: str, limit: int) -> tuple[bytes, str, str]:
        """(body, media type, digest); the digest is checked when `ref` is one or the registry names one."""
        response = self.request("GET", self.url(f"manifests/{ref}"), headers={"Accept": ACCEPT_MANIFESTS}, stream=True)
        self._check(response, f"manifest {ref}")
        media_type = response.headers.get("content-type", "").split(";", 1)[0].strip()
        header_digest = response.headers.get("docker-content-digest")
        body = self._read_limited(response, limit, f"manifest {ref}")
        actual = digest_of(body)
        expected = ref if ref.startswith("sha256:") else header_digest
        if expected and expected.startswith("sha256:") and expected != actual:
            raise RegistryError(f"manifest {ref}: content digest {actual} does not match {expected}")
        return body, media_type, actual

    def get_blob(self, digest: str, limit: int) -> bytes:
        response = self.request("GET", self.url(f"blobs/{digest}"), stream=True)
        self._check(response, f"blob {digest}")
        return self._read_limited(response, limit, f"blob {digest}")

    @contextmanager
    def open_blob(self, digest: str) -> Iterator[_StreamReader]:
        response = self.request("GET", self.url(f"blobs/{digest}"), stream=True)
        try:
            self._check(response, f"blob {digest}")
            yield _StreamReader(response, f"blob {digest}")
        finally:
            response.close()

    def blob_exists(self, digest: str) -> bool:
        response = self.request("HEAD", self.url(f"blobs/{digest}"))
        response.close()
        if response.status_code == 404:
            return False
        self._check(response, f"blob {digest}")
        return True

    def upload_blob(self, digest: str, content: bytes | Iterator[bytes]) -> None:
        """Monolithic upload: POST an upload session, then PUT the content with its digest."""
        response = self.request("POST", self.url("blobs/uploads/"))
        response.close()
        self._check(response, "start upload")
        location = response.headers.get("location")
        if not location:
            raise RegistryError(f"{self.reference.api_host}: upload answer without Location")
        target = urljoin(self.base + "/", location)
        if urlsplit(target).netloc != urlsplit(self.base).netloc:
            raise RegistryError(f"{self.reference.api_host}: upload Location points to another host")
        sep = "&" if "?" in target else "?"
        response = self.request(
            "PUT",
            f"{target}{sep}digest={digest}",
            headers={"Content-Type": "application/octet-stream"},
            content=content,
        )
        response.close()
        self._check(response, f"upload blob {digest}")

    def put_manifest(self, ref: str, body: bytes, media_type: str) -> None:
        response = self.request("PUT", self.url(f"manifests/{ref}"), headers={"Content-Type": media_type}, content=body)
        response.close()
        self._check(response, f"push manifest {ref}")
