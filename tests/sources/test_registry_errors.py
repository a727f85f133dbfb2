"""A registry that answers with errors or garbage: one clear RegistryError, or a per-layer error."""

from __future__ import annotations

import hashlib
import json
from http.server import BaseHTTPRequestHandler
from pathlib import Path

import pytest
from imagebuild import file, make_layer, probe_registries
from registry_server import fake_registry

from shareguard.core.context import ScanContext
from shareguard.core.errors import RegistryError
from shareguard.core.settings import Settings
from shareguard.image.scan import scan_image
from shareguard.sources.registry.client import RegistryClient
from shareguard.sources.registry.reference import parse_reference
from shareguard.sources.registry.source import open_registry_image

MANIFEST = "application/vnd.oci.image.manifest.v1+json"


def _digest(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


def _image(corrupt_layer: bool = False) -> dict[str, tuple[int, dict[str, str], bytes]]:
    layer = make_layer([file("etc/os-release", "ID=debian\n")])
    config = json.dumps(
        {"os": "linux", "architecture": "amd64", "rootfs": {"type": "layers", "diff_ids": [layer.diff_id]}}
    ).encode()
    manifest = json.dumps(
        {
            "schemaVersion": 2,
            "mediaType": MANIFEST,
            "config": {
                "mediaType": "application/vnd.oci.image.config.v1+json",
                "digest": _digest(config),
                "size": len(config),
            },
            "layers": [{"mediaType": layer.media_type, "digest": layer.digest, "size": len(layer.blob)}],
        }
    ).encode()
    blob = layer.blob if not corrupt_layer else layer.blob[:-8] + b"\0" * 8
    return {
        "/v2/app/manifests/": (200, {"Content-Type": MANIFEST, "Docker-Content-Digest": _digest(manifest)}, manifest),
        f"/v2/app/blobs/{_digest(config)}": (200, {}, config),
        f"/v2/app/blobs/{layer.digest}": (200, {}, blob),
    }


def _routes(table: dict[str, tuple[int, dict[str, str], bytes]]):  # type: ignore[no-untyped-def]
    return {prefix: (lambda h, a=answer: a) for prefix, answer in table.items()}


def _scan(host: str, tmp_path: Path):  # type: ignore[no-untyped-def]
    with open_registry_image(f"{host}/app:1", "linux/amd64", insecure=True) as source:
        return scan_image(source, probe_registries(), ScanContext(settings=Settings(cache_dir=tmp_path / "cache")))


def test_fake_serves_a_valid_image(tmp_path: Path) -> None:
    with fake_registry(_routes(_image())) as host:
        result = _scan(host, tmp_path)
    assert not result.issues


@pytest.mark.parametrize(
    ("manifest_answer", "message"),
    [
        ((500, {"Content-Type": "text/html"}, b"<html>oops</html>"), "HTTP 500"),
        (
            (503, {"Content-Type": "application/json"}, b'{"errors":[{"code":"UNAVAILABLE","message":"down"}]}'),
            "UNAVAILABLE: down",
        ),
        ((200, {"Content-Type": MANIFEST}, b"{not json"), "not valid JSON"),
        ((200, {"Content-Type": MANIFEST}, b"<html>login page</html>"), "not valid JSON"),
        ((200, {"Content-Type": MANIFEST}, b"[1, 2]"), "not a JSON object"),
        ((200, {"Content-Type": MANIFEST, "Docker-Content-Digest": "sha256:" + "1" * 64}, b"{}"), "does not match"),
        ((200, {"Content-Type": MANIFEST}, b"x" * (5 * 1024 * 1024)), "limit"),
        ((401, {"WWW-Authenticate": 'Bearer realm="file:///etc/passwd"'}, b""), "not an http"),
    ],
)
def test_manifest_errors_are_one_line(
    tmp_path: Path, manifest_answer: tuple[int, dict[str, str], bytes], message: str
) -> None:
    table = _image()
    table["/v2/app/manifests/"] = manifest_answer
    with fake_registry(_routes(table)) as host, pytest.raises(RegistryError, match=message) as info:
        _scan(host, tmp_path)
    assert "\n" not in info.value.one_line()


def test_config_with_wrong_digest(tmp_path: Path) -> None:
    table = _image()
    key = next(k for k in table if "/blobs/" in k and table[k][2].startswith(b"{"))
    table[key] = (200, {}, table[key][2].replace(b"amd64", b"arm64"))
    with fake_registry(_routes(table)) as host, pytest.raises(RegistryError, match="does not match"):
        _scan(host, tmp_path)


def test_corrupt_layer_blob_is_a_per_layer_error(tmp_path: Path) -> None:
    with fake_registry(_routes(_image(corrupt_layer=True))) as host:
        result = _scan(host, tmp_path)
    assert result.has_errors()
    assert "layer not scanned" in result.issues[0].message
    assert not (tmp_path / "cache" / "layers").exists() or not list((tmp_path / "cache" / "layers").iterdir())


def test_basic_challenge_without_credentials(tmp_path: Path) -> None:
    table = _image()
    table["/v2/app/manifests/"] = (
        401,
        {"WWW-Authenticate": 'Basic realm="x"'},
        b'{"errors":[{"code":"UNAUTHORIZED","message":"authentication required"}]}',
    )
    with fake_registry(_routes(table)) as host, pytest.raises(RegistryError, match=r"401.*authentication required"):
        _scan(host, tmp_path)


def test_token_answer_without_token(tmp_path: Path) -> None:
    def challenge(h: BaseHTTPRequestHandler) -> tuple[int, dict[str, str], bytes]:
        realm = f"http://{h.headers['Host']}/token"
        return 401, {"WWW-Authenticate": f'Bearer realm="{realm}",service="x",scope="repository:app:pull"'}, b""

    routes = {"/v2/app/manifests/": challenge, "/token": lambda h: (200, {}, b'{"nothing": 1}')}
    with fake_registry(routes) as host, pytest.raises(RegistryError, match="holds no token"):
        _scan(host, tmp_path)


def test_unreachable_registry() -> None:
    ref = parse_reference("127.0.0.1:1/app:1")
    with RegistryClient(ref, insecure=True, timeout=2) as client, pytest.raises(RegistryError, match="ConnectError"):
        client.get_manifest("1", 1024)


def test_plain_http_token_realm_needs_insecure() -> None:
    """Credentials never go to a plain-HTTP token realm off loopback unless --insecure-registry."""
    with (
        RegistryClient(parse_reference("registry.example.com/app:1")) as client,
        pytest.raises(RegistryError, match="plain-HTTP token realm"),
    ):
        client._token({"realm": "http://auth.example.com/token"})
