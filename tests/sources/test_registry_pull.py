"""Pull and scan over the OCI distribution API from a real `docker-registry` on 127.0.0.1.

Images are pushed with shareguard's own push code (and with skopeo when installed), then pulled
and scanned; the result must equal the scan of the same image as a local layout.
"""

from __future__ import annotations

import base64
import json
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from imagebuild import (
    file,
    make_layer,
    probe_registries,
    standard_image_layers,
    write_multiarch_layout,
    write_oci_layout,
)
from registry_server import TokenServer, registry_binary, run_registry

from shareguard.core.context import ScanContext
from shareguard.core.errors import RegistryError
from shareguard.core.facts import ImageIdentity, Package
from shareguard.core.result import ScanResult
from shareguard.core.settings import Settings
from shareguard.image.scan import scan_image
from shareguard.sources.image.open import open_image_path
from shareguard.sources.registry.auth import Credentials
from shareguard.sources.registry.client import RegistryClient
from shareguard.sources.registry.push import push_layout
from shareguard.sources.registry.reference import parse_reference
from shareguard.sources.registry.source import open_registry_image

pytestmark = pytest.mark.skipif(
    registry_binary() is None, reason="docker-registry not installed (apt-get install docker-registry)"
)


@pytest.fixture(autouse=True)
def _no_ambient_credentials(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv("SHAREGUARD_REGISTRY_USERNAME", raising=False)
    monkeypatch.delenv("SHAREGUARD_REGISTRY_PASSWORD", raising=False)
    monkeypatch.setenv("DOCKER_CONFIG", str(tmp_path / "no-docker-config"))


@pytest.fixture(scope="module")
def layout(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("layout") / "oci"
    write_oci_layout(root, standard_image_layers())
    return root


@pytest.fixture(scope="module")
def registry(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with run_registry(tmp_path_factory.mktemp("registry")) as host:
        yield host


def push(host: str, repo_tag: str, layout: Path, credentials: Credentials | None = None) -> str:
    ref = parse_reference(f"{host}/{repo_tag}")
    with RegistryClient(ref, credentials, insecure=True, push=True) as client:
        return push_layout(client, layout, ref.tag or "latest")


def scan_ref(text: str, cache: Path, platform: str = "linux/amd64", **kw: object) -> ScanResult:
    with open_registry_image(text, platform, insecure=True, **kw) as source:  # type: ignore[arg-type]
        return scan_image(source, probe_registries(), ScanContext(settings=Settings(cache_dir=cache)))


def scan_layout(path: Path, cache: Path) -> ScanResult:
    return scan_image(
        open_image_path(path, "linux/amd64"), probe_registries(), ScanContext(settings=Settings(cache_dir=cache))
    )


def inventory(result: ScanResult) -> set[tuple[str, str, str, str | None]]:
    return {(p.ecosystem, p.name, p.version, p.layer) for p in result.facts.of(Package)}


def test_pushed_image_scans_like_its_layout(registry: str, layout: Path, tmp_path: Path) -> None:
    digest = push(registry, "ml/pytorch:1.0", layout)
    pulled = scan_ref(f"{registry}/ml/pytorch:1.0", tmp_path / "c1")
    local = scan_layout(layout, tmp_path / "c2")
    assert not pulled.issues
    assert inventory(pulled) == inventory(local) and inventory(pulled)
    (ident,) = pulled.facts.of(ImageIdentity)
    assert ident.digest == digest == local.facts.of(ImageIdentity)[0].digest
    by_digest = scan_ref(f"{registry}/ml/pytorch@{digest}", tmp_path / "c3")
    assert inventory(by_digest) == inventory(local)


def test_multi_arch_index_through_the_registry(registry: str, tmp_path: Path) -> None:
    amd = [make_layer([file("usr/lib/os-release", "ID=debian\nVERSION_ID=12\n")])]
    arm = [make_layer([file("usr/lib/os-release", "ID=alpine\nVERSION_ID=3.20\n")])]
    write_multiarch_layout(tmp_path / "multi", {"linux/amd64": amd, "linux/arm64/v8": arm})
    push(registry, "multi/app:2", tmp_path / "multi")
    with open_registry_image(f"{registry}/multi/app:2", "linux/arm64", insecure=True) as source:
        assert source.config.architecture == "arm64"
    with pytest.raises(RegistryError, match="no image for platform linux/ppc64le"):
        scan_ref(f"{registry}/multi/app:2", tmp_path / "c", platform="linux/ppc64le")


@pytest.mark.skipif(shutil.which("skopeo") is None, reason="skopeo not installed")
def test_image_pushed_by_skopeo(registry: str, layout: Path, tmp_path: Path) -> None:
    subprocess.run(
        [
            "skopeo",
            "copy",
            "--quiet",
            "--dest-tls-verify=false",
            f"oci:{layout}:test",
            f"docker://{registry}/skopeo/img:1",
        ],
        check=True,
        capture_output=True,
        timeout=120,
    )
    assert inventory(scan_ref(f"{registry}/skopeo/img:1", tmp_path / "c1")) == inventory(
        scan_layout(layout, tmp_path / "c2")
    )


def test_unknown_tag_and_repository(registry: str, tmp_path: Path) -> None:
    with pytest.raises(RegistryError, match="404"):
        scan_ref(f"{registry}/nothing/here:1", tmp_path / "c")


def test_https_is_required_unless_insecure(registry: str, tmp_path: Path) -> None:
    with pytest.raises(RegistryError), open_registry_image(f"{registry}/ml/pytorch:1.0", "linux/amd64"):
        pass


def test_basic_auth(tmp_path: Path, layout: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with run_registry(tmp_path / "reg", htpasswd=("alice", "s3cret-pw")) as host:
        push(host, "private/app:1", layout, Credentials("alice", "s3cret-pw"))
        with pytest.raises(RegistryError, match="401"):
            scan_ref(f"{host}/private/app:1", tmp_path / "c0")
        with pytest.raises(RegistryError, match="401"):
            scan_ref(f"{host}/private/app:1", tmp_path / "c0", username="alice", password="wrong")
        assert inventory(scan_ref(f"{host}/private/app:1", tmp_path / "c1", username="alice", password="s3cret-pw"))
        monkeypatch.setenv("SHAREGUARD_REGISTRY_USERNAME", "alice")
        monkeypatch.setenv("SHAREGUARD_REGISTRY_PASSWORD", "s3cret-pw")
        assert inventory(scan_ref(f"{host}/private/app:1", tmp_path / "c2"))
        monkeypatch.delenv("SHAREGUARD_REGISTRY_USERNAME")
        config_dir = tmp_path / "docker"
        config_dir.mkdir()
        auth = base64.b64encode(b"alice:s3cret-pw").decode()
        (config_dir / "config.json").write_text(json.dumps({"auths": {host: {"auth": auth}}}))
        monkeypatch.setenv("DOCKER_CONFIG", str(config_dir))
        assert inventory(scan_ref(f"{host}/private/app:1", tmp_path / "c3"))


def test_bearer_token_auth(tmp_path: Path, layout: Path) -> None:
    pytest.importorskip("cryptography")
    tokens = TokenServer(tmp_path, "bob", "t0ken-pw")
    try:
        with run_registry(tmp_path / "reg", token=tokens) as host:
            push(host, "team/model:3", layout, Credentials("bob", "t0ken-pw"))
            result = scan_ref(f"{host}/team/model:3", tmp_path / "c1", username="bob", password="t0ken-pw")
            assert inventory(result) == inventory(scan_layout(layout, tmp_path / "c2"))
            scopes = [r["query"].get("scope") for r in tokens.requests]
            assert ["repository:team/model:pull"] in scopes and ["repository:team/model:pull,push"] in scopes
            with pytest.raises(RegistryError, match=r"token service .*401"):
                scan_ref(f"{host}/team/model:3", tmp_path / "c3", username="bob", password="nope")
    finally:
        tokens.close()
