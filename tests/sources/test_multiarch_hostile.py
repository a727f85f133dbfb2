"""A multi-platform index with malformed entries (#14 item 10): a bad descriptor is skipped with a
warning and the valid `linux/amd64` image after it is scanned; a platform no valid entry matches is
still an error (OCI layout and registry alike)."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import pytest
from imagebuild import OCI_INDEX, OCI_MANIFEST, file, make_layer, probe_registries, write_oci_layout
from registry_server import fake_registry

from shareguard.core.context import ScanContext
from shareguard.core.errors import InputError, RegistryError
from shareguard.core.facts import OSInfo
from shareguard.core.settings import Settings
from shareguard.image.scan import scan_image
from shareguard.sources.image.open import open_image_path
from shareguard.sources.registry.source import open_registry_image

GOOD_DIGEST = "sha256:" + "a" * 64

BAD_ENTRIES: list[Any] = [
    42,
    {"mediaType": OCI_MANIFEST, "size": 10, "platform": {"os": "linux", "architecture": "amd64"}},
    {
        "mediaType": OCI_MANIFEST,
        "digest": "sha256:zz",
        "size": 10,
        "platform": {"os": "linux", "architecture": "amd64"},
    },
    {
        "mediaType": OCI_MANIFEST,
        "digest": GOOD_DIGEST,
        "size": -1,
        "platform": {"os": "linux", "architecture": "amd64"},
    },
    {"digest": GOOD_DIGEST, "size": 10, "platform": {"os": "linux", "architecture": "amd64"}},
    {"mediaType": OCI_MANIFEST, "digest": GOOD_DIGEST, "size": 10, "platform": {"os": "", "architecture": "amd64"}},
    {
        "mediaType": OCI_MANIFEST,
        "digest": GOOD_DIGEST,
        "size": 10,
        "platform": {"os": "linux", "architecture": "amd64", "variant": "a/b/c"},
    },
]


def _hostile_layout(root: Path) -> None:
    """An OCI layout whose index.json lists the malformed entries first, then the valid amd64 image."""
    write_oci_layout(root, [make_layer([file("etc/os-release", "ID=debian\nVERSION_ID=12\n")])])
    index = json.loads((root / "index.json").read_text())
    good = index["manifests"][0]
    good["platform"] = {"os": "linux", "architecture": "amd64"}
    index["manifests"] = [*BAD_ENTRIES, good]
    (root / "index.json").write_text(json.dumps(index))


def test_bad_descriptors_are_skipped_with_a_warning(tmp_path: Path) -> None:
    _hostile_layout(tmp_path / "oci")
    source = open_image_path(tmp_path / "oci", "linux/amd64")
    assert source.config.platform == "linux/amd64"
    assert len(source.warnings) == len(BAD_ENTRIES)
    assert all(w.startswith("malformed index entry skipped:") for w in source.warnings)
    result = scan_image(source, probe_registries(), ScanContext(settings=Settings(cache_dir=tmp_path / "cache")))
    assert any(isinstance(f, OSInfo) and f.id == "debian" for f in result.facts)
    warned = [i for i in result.issues if "malformed index entry skipped" in i.message]
    assert len(warned) == len(BAD_ENTRIES) and all(i.kind == "warning" for i in warned)
    assert not [i for i in result.issues if i.kind == "error"]


def test_a_platform_matching_no_valid_entry_is_still_an_error(tmp_path: Path) -> None:
    _hostile_layout(tmp_path / "oci")
    with pytest.raises(InputError, match=r"no image for platform linux/arm64 \(available: linux/amd64\)"):
        open_image_path(tmp_path / "oci", "linux/arm64")


def test_an_index_of_only_bad_entries_is_an_error(tmp_path: Path) -> None:
    root = tmp_path / "oci"
    _hostile_layout(root)
    index = json.loads((root / "index.json").read_text())
    index["manifests"] = BAD_ENTRIES
    (root / "index.json").write_text(json.dumps(index))
    with pytest.raises(InputError, match="no image for platform linux/amd64"):
        open_image_path(root, "linux/amd64")


def _digest(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


def test_registry_index_with_a_bad_descriptor(tmp_path: Path) -> None:
    layer = make_layer([file("etc/os-release", "ID=debian\n")])
    config = json.dumps(
        {"os": "linux", "architecture": "amd64", "rootfs": {"type": "layers", "diff_ids": [layer.diff_id]}}
    ).encode()
    manifest = json.dumps(
        {
            "schemaVersion": 2,
            "mediaType": OCI_MANIFEST,
            "config": {
                "mediaType": "application/vnd.oci.image.config.v1+json",
                "digest": _digest(config),
                "size": len(config),
            },
            "layers": [{"mediaType": layer.media_type, "digest": layer.digest, "size": len(layer.blob)}],
        }
    ).encode()
    good = {
        "mediaType": OCI_MANIFEST,
        "digest": _digest(manifest),
        "size": len(manifest),
        "platform": {"os": "linux", "architecture": "amd64"},
    }
    index = json.dumps({"schemaVersion": 2, "mediaType": OCI_INDEX, "manifests": [*BAD_ENTRIES, good]}).encode()
    table = {
        f"/v2/app/manifests/{_digest(manifest)}": (200, {"Content-Type": OCI_MANIFEST}, manifest),
        "/v2/app/manifests/": (200, {"Content-Type": OCI_INDEX, "Docker-Content-Digest": _digest(index)}, index),
        f"/v2/app/blobs/{_digest(config)}": (200, {}, config),
        f"/v2/app/blobs/{layer.digest}": (200, {}, layer.blob),
    }
    routes = {prefix: (lambda h, a=answer: a) for prefix, answer in table.items()}
    settings = Settings(cache_dir=tmp_path / "cache")
    with fake_registry(routes) as host:  # type: ignore[arg-type]
        with open_registry_image(f"{host}/app:1", "linux/amd64", insecure=True) as source:
            assert source.manifest_digest == _digest(manifest)
            result = scan_image(source, probe_registries(), ScanContext(settings=settings))
        assert any(isinstance(f, OSInfo) and f.id == "debian" for f in result.facts)
        assert sum("malformed index entry skipped" in i.message for i in result.issues) == len(BAD_ENTRIES)
        with (
            pytest.raises(RegistryError, match="no image for platform linux/arm64"),
            open_registry_image(f"{host}/app:1", "linux/arm64", insecure=True),
        ):
            pass
