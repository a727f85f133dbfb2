"""`shareguard image` and `shareguard rootfs` end to end through the real application."""

from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "sources"))

from imagebuild import (
    dist_info,
    real_dpkg_status,
    standard_image_layers,
    tar_directory,
    write_docker_archive,
    write_oci_layout,
)
from registry_server import registry_binary, run_registry

from shareguard.cli.main import build_app
from shareguard.sources.registry.auth import Credentials
from shareguard.sources.registry.client import RegistryClient
from shareguard.sources.registry.push import push_layout
from shareguard.sources.registry.reference import parse_reference
from shareguard.vuln.options import VulnOptions


def run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(build_app(), list(args), catch_exceptions=False)
    return result.exit_code, result.stdout, result.stderr


@pytest.fixture(scope="module")
def images(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("images")
    layers = standard_image_layers(("gzip", "zstd", "tar"))
    write_oci_layout(root / "oci", layers)
    tar_directory(root / "oci", root / "oci.tar")
    write_docker_archive(root / "docker.tar", standard_image_layers(("gzip", "gzip", "tar")))
    return root


def sbom_components(path: Path) -> set[tuple[str, str]]:
    doc = json.loads(path.read_text())
    return {(c["name"], c.get("version", "")) for c in doc.get("components", [])}


def test_formats_give_the_same_sbom(images: Path, tmp_path: Path) -> None:
    outputs = []
    for name in ("oci", "oci.tar", "docker.tar"):
        out = tmp_path / f"{name}.cdx.json"
        code, _, err = run("image", "--input", str(images / name), "--format", "cyclonedx", "-o", str(out), "-q")
        if code == 2 and "unknown" in err:
            pytest.skip("no cyclonedx reporter registered yet")
        assert code == 0, err
        outputs.append(sbom_components(out))
    assert outputs[0] == outputs[1] == outputs[2]
    names = {n for n, _ in outputs[0]}
    assert "packaging" in names
    if real_dpkg_status():
        assert "dpkg" in names or "base-files" in names


def test_json_report_and_layer_metadata(images: Path, tmp_path: Path) -> None:
    out = tmp_path / "r.json"
    code, _, err = run("image", "--input", str(images / "oci"), "--format", "json", "-o", str(out))
    assert code == 0, err
    doc = json.loads(out.read_text())
    assert doc["command"] == "image"
    assert doc["metadata"]["layers"] == 3
    code, _, _ = run("image", "--input", str(images / "oci"), "--format", "json", "-o", str(out))
    assert json.loads(out.read_text())["metadata"]["layers_from_cache"] == 3
    code, _, _ = run("image", "--input", str(images / "oci"), "--format", "json", "-o", str(out), "--no-cache")
    assert json.loads(out.read_text())["metadata"]["layers_from_cache"] == 0


def test_options_reach_the_analyzers(images: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import shareguard.image.scan as scan_module

    seen: dict[str, Any] = {}
    real = scan_module.scan_image

    def spy(source: Any, regs: Any, ctx: Any, **kw: Any) -> Any:
        seen["vuln"] = ctx.options.get(VulnOptions)
        return real(source, regs, ctx, **kw)

    monkeypatch.setattr(scan_module, "scan_image", spy)
    vex = tmp_path / "vex.json"
    vex.write_text('{"@context": "https://openvex.dev/ns/v0.2.0", "statements": []}')
    code, _, err = run(
        "image",
        "--input",
        str(images / "oci"),
        "--ignore-unfixed",
        "--vex",
        str(vex),
        "-f",
        "json",
        "-o",
        str(tmp_path / "o.json"),
    )
    assert code == 0, err
    assert seen["vuln"] == VulnOptions(ignore_unfixed=True, vex=vex)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ((), "either an image reference or --input"),
        (("127.0.0.1:1/x:1", "--input", "/tmp"), "either an image reference or --input"),
        (("--input", "/nonexistent/image.tar"), "no such image"),
        (("--input", ".", "--platform", "amd64"), "invalid platform"),
        (("--input", ".", "--vex", "/nonexistent.vex"), "VEX file not found"),
        (("UPPER/Case:1",), "invalid repository name"),
    ],
)
def test_user_errors_are_one_line_exit_2(args: tuple[str, ...], message: str) -> None:
    code, _, err = run("image", *args)
    assert code == 2
    assert message in err and err.count("\n") == 1 and "Traceback" not in err


def test_corrupt_layer_exits_non_zero_with_a_per_layer_error(images: Path, tmp_path: Path) -> None:
    copy = tmp_path / "oci"
    shutil.copytree(images / "oci", copy)
    index = json.loads((copy / "index.json").read_text())
    manifest = json.loads((copy / "blobs/sha256" / index["manifests"][0]["digest"].split(":")[1]).read_text())
    blob = copy / "blobs/sha256" / manifest["layers"][1]["digest"].split(":")[1]
    blob.write_bytes(blob.read_bytes()[:100])
    code, _, err = run("image", "--input", str(copy), "-f", "json", "-o", str(tmp_path / "o.json"))
    assert code == 3
    assert "layer 2" in err and "layer not scanned" in err


def test_corrupt_manifest_is_a_one_line_error(images: Path, tmp_path: Path) -> None:
    copy = tmp_path / "oci"
    shutil.copytree(images / "oci", copy)
    index = json.loads((copy / "index.json").read_text())
    path = copy / "blobs/sha256" / index["manifests"][0]["digest"].split(":")[1]
    path.write_text(path.read_text().replace("layers", "layerz"))
    code, _, err = run("image", "--input", str(copy))
    assert code == 2 and "does not match" in err


@pytest.mark.skipif(registry_binary() is None, reason="docker-registry not installed (apt-get install docker-registry)")
def test_pull_from_registry_with_basic_auth_matches_the_tar(
    images: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DOCKER_CONFIG", str(tmp_path / "none"))
    with run_registry(tmp_path / "reg", htpasswd=("ci", "pw-123")) as host:
        ref = parse_reference(f"{host}/dl/pytorch:2.3")
        with RegistryClient(ref, Credentials("ci", "pw-123"), insecure=True, push=True) as client:
            push_layout(client, images / "oci", "2.3")
        pulled, local = tmp_path / "pulled.json", tmp_path / "local.json"
        code, _, err = run(
            "image",
            f"{host}/dl/pytorch:2.3",
            "--insecure-registry",
            "--username",
            "ci",
            "--password",
            "pw-123",
            "-f",
            "cyclonedx",
            "-o",
            str(pulled),
            "-q",
        )
        if code == 2 and "unknown" in err:
            pytest.skip("no cyclonedx reporter registered yet")
        assert code == 0, err
        assert run("image", "--input", str(images / "oci.tar"), "-f", "cyclonedx", "-o", str(local), "-q")[0] == 0
        assert sbom_components(pulled) == sbom_components(local)
        code, _, err = run("image", f"{host}/dl/pytorch:2.3", "--insecure-registry")
        assert code == 2 and "401" in err and err.count("\n") == 1


def test_rootfs_command(tmp_path: Path) -> None:
    root = tmp_path / "root"
    info = dist_info("packaging")
    assert info is not None
    shutil.copytree(info, root / "usr/lib/python3/dist-packages" / info.name)
    (root / "etc").mkdir()
    (root / "etc/os-release").write_text('ID=debian\nVERSION_ID="12"\n')
    out = tmp_path / "r.cdx.json"
    code, _, err = run("rootfs", str(root), "-f", "cyclonedx", "-o", str(out), "-q")
    if code == 2 and "unknown" in err:
        pytest.skip("no cyclonedx reporter registered yet")
    assert code == 0, err
    assert "packaging" in {n for n, _ in sbom_components(out)}
    code, _, err = run("rootfs", str(tmp_path / "missing"))
    assert code == 2 and "cannot access" in err


# -- one analyzer model: the file analyzers `audit` runs, over an image's files ------------------------

EVIL_PICKLE = (
    b"\x80\x04\x95\x1b\x00\x00\x00\x00\x00\x00\x00\x8c\x05posix\x94\x8c\x06system\x94\x93\x94"
    b"\x8c\x02id\x94\x85\x94R\x94."
)
"""`posix.system("id")` on load: built as bytes, never loaded."""
ROOT_DOCKERFILE = b'FROM python:3.11\nRUN pip install torch\nCMD ["python", "serve.py"]\n'
"""No USER: the container runs as root (DOCKERFILE-001)."""


def _findings(path: Path) -> dict[tuple[str, str], dict[str, Any]]:
    doc = json.loads(path.read_text())
    return {(f["rule_id"], f["resource"]["path"]): f for f in doc["findings"]}


def _ml_layer() -> Any:
    from imagebuild import file, make_layer

    return make_layer([file("models/classifier.pkl", EVIL_PICKLE), file("app/Dockerfile", ROOT_DOCKERFILE)])


def test_image_reports_a_malicious_pickle_and_a_root_dockerfile_with_the_layer(tmp_path: Path) -> None:
    layer = _ml_layer()
    archive = write_docker_archive(tmp_path / "ml.tar", [layer])
    out = tmp_path / "r.json"
    for _ in range(2):  # cold, then served from the caches: the same findings
        code, _, err = run("image", "--input", str(archive), "-f", "json", "-o", str(out), "-q")
        assert code == 0, err
        found = _findings(out)
        pickle = found[("MODEL-001", "models/classifier.pkl")]
        assert "system" in (pickle["evidence"] or "")
        assert pickle["location"]["layer_digest"] == layer.diff_id
        assert found[("DOCKERFILE-001", "app/Dockerfile")]["location"]["layer_digest"] == layer.diff_id
    assert json.loads(out.read_text())["metadata"]["layers_from_cache"] == 1


def test_a_pickle_deleted_or_replaced_by_an_upper_layer_is_not_reported(tmp_path: Path) -> None:
    from imagebuild import file, make_layer, whiteout

    lower = _ml_layer()
    for name, upper in (
        ("whiteout", [whiteout("models/classifier.pkl")]),
        ("directory-whiteout", [whiteout("models")]),
        ("replaced", [file("models/classifier.pkl", b"\x80\x04K\x01.")]),
    ):
        archive = write_docker_archive(tmp_path / f"{name}.tar", [lower, make_layer(upper)])
        out = tmp_path / f"{name}.json"
        code, _, err = run("image", "--input", str(archive), "-f", "json", "-o", str(out), "-q")
        assert code == 0, err
        found = _findings(out)
        assert ("MODEL-001", "models/classifier.pkl") not in found, name
        assert ("DOCKERFILE-001", "app/Dockerfile") in found, name


def test_rootfs_reports_a_malicious_pickle_and_a_root_dockerfile(tmp_path: Path) -> None:
    root = tmp_path / "root"
    (root / "models").mkdir(parents=True)
    (root / "app").mkdir()
    (root / "models/classifier.pkl").write_bytes(EVIL_PICKLE)
    (root / "app/Dockerfile").write_bytes(ROOT_DOCKERFILE)
    out = tmp_path / "r.json"
    code, _, err = run("rootfs", str(root), "-f", "json", "-o", str(out), "-q")
    assert code == 0, err
    found = _findings(out)
    assert ("MODEL-001", "models/classifier.pkl") in found
    assert ("DOCKERFILE-001", "app/Dockerfile") in found
