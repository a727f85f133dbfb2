"""docker-archive, OCI layout and oci-archive: same image, same result; damage gives one clear error."""

from __future__ import annotations

import gzip
import json
import shutil
from pathlib import Path

import pytest
from imagebuild import (
    config_json,
    file,
    make_layer,
    standard_image_layers,
    tar_directory,
    write_docker_archive,
    write_multiarch_layout,
    write_oci_layout,
)

from shareguard.core.errors import HostileInputError, InputError
from shareguard.sources.image.open import open_image_path


@pytest.fixture
def layers():  # type: ignore[no-untyped-def]
    return standard_image_layers()


def _describe(path: Path, platform: str = "linux/amd64") -> tuple[str | None, tuple[str, ...], str]:
    src = open_image_path(path, platform)
    return src.config_digest, src.config.diff_ids, src.config.platform


def test_three_formats_describe_the_same_image(tmp_path: Path, layers) -> None:  # type: ignore[no-untyped-def]
    manifest_digest = write_oci_layout(tmp_path / "oci", layers)
    tar_directory(tmp_path / "oci", tmp_path / "oci.tar")
    write_docker_archive(tmp_path / "docker.tar", layers)
    oci = open_image_path(tmp_path / "oci", "linux/amd64")
    assert oci.manifest_digest == manifest_digest
    assert open_image_path(tmp_path / "oci.tar", "linux/amd64").manifest_digest == manifest_digest
    expected = _describe(tmp_path / "oci")
    assert _describe(tmp_path / "oci.tar") == expected
    assert _describe(tmp_path / "docker.tar") == expected
    assert [la.digest for la in oci.layers] == [la.digest for la in layers]
    assert oci.config.labels == (("org.opencontainers.image.title", "test"),)
    assert oci.config.created == "2024-05-01T12:00:00Z"


def test_docker_archive_layers_are_checked_uncompressed(tmp_path: Path, layers) -> None:  # type: ignore[no-untyped-def]
    src = open_image_path(write_docker_archive(tmp_path / "d.tar", layers), "linux/amd64")
    assert all(la.verify_uncompressed and la.digest is None for la in src.layers)
    assert "test:latest" in src.reference


def test_multi_arch_index_picks_the_platform(tmp_path: Path) -> None:
    amd = [make_layer([file("arch", "amd64")])]
    arm = [make_layer([file("arch", "arm64")])]
    digests = write_multiarch_layout(tmp_path / "multi", {"linux/amd64": amd, "linux/arm64/v8": arm})
    assert open_image_path(tmp_path / "multi", "linux/amd64").manifest_digest == digests["linux/amd64"]
    assert open_image_path(tmp_path / "multi", "linux/arm64").manifest_digest == digests["linux/arm64/v8"]
    assert open_image_path(tmp_path / "multi", "linux/arm64/v8").config.architecture == "arm64"
    with pytest.raises(
        InputError, match=r"no image for platform linux/s390x \(available: linux/amd64, linux/arm64/v8\)"
    ):
        open_image_path(tmp_path / "multi", "linux/s390x")
    with pytest.raises(InputError, match="invalid platform"):
        open_image_path(tmp_path / "multi", "amd64")


def _blob(root: Path, digest: str) -> Path:
    return root / "blobs" / "sha256" / digest.split(":", 1)[1]


def test_tampered_manifest_is_refused(tmp_path: Path, layers) -> None:  # type: ignore[no-untyped-def]
    digest = write_oci_layout(tmp_path / "oci", layers)
    path = _blob(tmp_path / "oci", digest)
    doc = json.loads(path.read_bytes())
    doc["annotations"] = {"evil": "1"}
    path.write_bytes(json.dumps(doc).encode())
    with pytest.raises(InputError, match=r"declares|does not match"):
        open_image_path(tmp_path / "oci", "linux/amd64")


def test_tampered_config_is_refused(tmp_path: Path, layers) -> None:  # type: ignore[no-untyped-def]
    digest = write_oci_layout(tmp_path / "oci", layers)
    manifest = json.loads(_blob(tmp_path / "oci", digest).read_bytes())
    cpath = _blob(tmp_path / "oci", manifest["config"]["digest"])
    cpath.write_bytes(cpath.read_bytes().replace(b"amd64", b"arm64"))
    with pytest.raises(InputError, match="does not match"):
        open_image_path(tmp_path / "oci", "linux/amd64")


def test_missing_blob(tmp_path: Path, layers) -> None:  # type: ignore[no-untyped-def]
    digest = write_oci_layout(tmp_path / "oci", layers)
    manifest = json.loads(_blob(tmp_path / "oci", digest).read_bytes())
    _blob(tmp_path / "oci", manifest["config"]["digest"]).unlink()
    with pytest.raises(InputError, match="missing"):
        open_image_path(tmp_path / "oci", "linux/amd64")


def test_symlinked_blob_is_refused(tmp_path: Path, layers) -> None:  # type: ignore[no-untyped-def]
    digest = write_oci_layout(tmp_path / "oci", layers)
    manifest = json.loads(_blob(tmp_path / "oci", digest).read_bytes())
    cpath = _blob(tmp_path / "oci", manifest["config"]["digest"])
    cpath.unlink()
    cpath.symlink_to("/etc/passwd")
    with pytest.raises(HostileInputError, match="not a regular file"):
        open_image_path(tmp_path / "oci", "linux/amd64")


@pytest.mark.parametrize(
    ("manifest", "message"),
    [
        ({"schemaVersion": 2, "mediaType": "application/vnd.example.unknown+json"}, "unsupported manifest media type"),
        (
            {
                "schemaVersion": 2,
                "mediaType": "application/vnd.oci.image.manifest.v1+json",
                "config": {
                    "mediaType": "application/vnd.cncf.helm.config.v1+json",
                    "digest": "sha256:" + "a" * 64,
                    "size": 2,
                },
                "layers": [],
            },
            "not a container image",
        ),
        ({"schemaVersion": 1, "name": "x", "fsLayers": []}, "unsupported manifest media type"),
    ],
)
def test_unsupported_manifests(tmp_path: Path, manifest: dict, message: str) -> None:  # type: ignore[type-arg]
    root = tmp_path / "oci"
    write_oci_layout(root, [make_layer([file("a", "1")])])
    body = json.dumps(manifest).encode()
    import hashlib

    digest = "sha256:" + hashlib.sha256(body).hexdigest()
    _blob(root, digest).write_bytes(body)
    index = {
        "schemaVersion": 2,
        "manifests": [{"mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": digest, "size": len(body)}],
    }
    (root / "index.json").write_text(json.dumps(index))
    with pytest.raises(InputError, match=message):
        open_image_path(root, "linux/amd64")


@pytest.mark.parametrize(
    "content", [b"", b"{not json", b"[]", b'{"manifests": "x"}', b'{"manifests": [{"digest": "../../etc"}]}']
)
def test_garbage_index(tmp_path: Path, content: bytes) -> None:
    root = tmp_path / "oci"
    write_oci_layout(root, [make_layer([file("a", "1")])])
    (root / "index.json").write_bytes(content)
    with pytest.raises(InputError):
        open_image_path(root, "linux/amd64")


def test_hostile_digest_in_descriptor_never_leaves_the_layout(tmp_path: Path) -> None:
    root = tmp_path / "oci"
    write_oci_layout(root, [make_layer([file("a", "1")])])
    bad = {
        "schemaVersion": 2,
        "manifests": [
            {
                "mediaType": "application/vnd.oci.image.manifest.v1+json",
                "digest": "sha256:../../../../etc/passwd",
                "size": 10,
            }
        ],
    }
    (root / "index.json").write_text(json.dumps(bad))
    with pytest.raises(InputError, match="invalid digest"):
        open_image_path(root, "linux/amd64")


def test_layer_count_mismatch(tmp_path: Path) -> None:
    layers = [make_layer([file("a", "1")]), make_layer([file("b", "2")])]
    write_oci_layout(tmp_path / "oci", layers, config=config_json(layers[:1]))
    with pytest.raises(InputError, match="diff ids"):
        open_image_path(tmp_path / "oci", "linux/amd64")


def test_docker_archive_config_tamper_and_garbage(tmp_path: Path, layers) -> None:  # type: ignore[no-untyped-def]
    write_docker_archive(tmp_path / "d.tar", layers)
    shutil.unpack_archive(tmp_path / "d.tar", tmp_path / "d", "tar")
    cfg = next((tmp_path / "d").glob("*.json"), None)
    cfg = next(p for p in (tmp_path / "d").glob("*.json") if p.name not in ("manifest.json", "repositories"))
    cfg.write_bytes(cfg.read_bytes().replace(b"amd64", b"arm64"))
    with pytest.raises(InputError, match="does not match"):
        open_image_path(tmp_path / "d", "linux/amd64")
    (tmp_path / "d" / "manifest.json").write_text("{}")
    with pytest.raises(InputError, match="not a list"):
        open_image_path(tmp_path / "d", "linux/amd64")


def test_not_an_image(tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    with pytest.raises(InputError, match="not an image"):
        open_image_path(tmp_path / "empty", "linux/amd64")
    (tmp_path / "text.tar").write_text("hello")
    with pytest.raises(InputError, match="not a readable tar"):
        open_image_path(tmp_path / "text.tar", "linux/amd64")
    with pytest.raises(InputError, match="no such"):
        open_image_path(tmp_path / "missing", "linux/amd64")


def test_compressed_archive_gets_a_clear_message(tmp_path: Path, layers) -> None:  # type: ignore[no-untyped-def]
    raw = write_docker_archive(tmp_path / "d.tar", layers).read_bytes()
    (tmp_path / "d.tar.gz").write_bytes(gzip.compress(raw))
    with pytest.raises(InputError, match="decompress it first"):
        open_image_path(tmp_path / "d.tar.gz", "linux/amd64")


def test_docker_archive_of_another_platform_is_an_error_when_asked_for(tmp_path: Path) -> None:
    """`--platform linux/arm64` on an amd64-only docker-archive is an error, not a silent other platform;
    without `--platform` the default is a warning only (the archive holds one image)."""
    layers = [make_layer([file("etc/hostname", b"x\n")])]
    archive = write_docker_archive(tmp_path / "d.tar", layers, config=config_json(layers, arch="amd64"))
    with pytest.raises(InputError, match=r"--platform linux/arm64: the archive holds a linux/amd64 image only"):
        open_image_path(archive, "linux/arm64", platform_given=True)
    assert open_image_path(archive, "linux/amd64", platform_given=True).config.architecture == "amd64"
    arm = write_docker_archive(tmp_path / "a.tar", layers, config=config_json(layers, arch="arm64"))
    src = open_image_path(arm, "linux/amd64")
    assert src.config.architecture == "arm64" and any("not linux/amd64" in w for w in src.warnings)
