"""End to end through the rootfs scan: a DL-image-shaped root filesystem built from this machine's real
metadata (dpkg status and lists, a pip dist-info) plus conda, CUDA and framework files in their real shapes."""

from __future__ import annotations

import importlib.metadata
import json
import shutil
from pathlib import Path

import pytest

from shareguard.core.context import ScanContext
from shareguard.core.facts import OSInfo, Package
from shareguard.core.registry import load_registries
from shareguard.core.settings import Settings


def _put(root: Path, rel: str, content: bytes) -> None:
    target = root / rel
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_bytes(content)


@pytest.fixture()
def dl_rootfs(tmp_path: Path) -> Path:
    status = Path("/var/lib/dpkg/status")
    if not status.exists():
        pytest.skip("needs a dpkg system for real metadata")
    root = tmp_path / "rootfs"
    _put(root, "usr/lib/os-release", Path("/usr/lib/os-release").read_bytes())
    (root / "etc").mkdir(parents=True, exist_ok=True)
    (root / "etc/os-release").symlink_to("../usr/lib/os-release")
    _put(root, "var/lib/dpkg/status", status.read_bytes())
    for lst in Path("/var/lib/dpkg/info").glob("python3-yaml*.list"):
        _put(root, f"var/lib/dpkg/info/{lst.name}", lst.read_bytes())
    for meta in Path("/usr/lib/python3/dist-packages").glob("PyYAML-*.dist-info/METADATA"):
        _put(root, str(meta).lstrip("/"), meta.read_bytes())
    dist = importlib.metadata.distribution("pyyaml")
    dist_dir = Path(str(dist._path))  # type: ignore[attr-defined]
    env = "opt/conda/envs/ml"
    shutil.copytree(dist_dir, root / env / "lib/python3.11/site-packages" / dist_dir.name)
    record = {
        "name": "pyyaml",
        "version": dist.version,
        "build": "py311h459d7ec_1",
        "channel": "https://conda.anaconda.org/conda-forge/linux-64",
        "subdir": "linux-64",
        "files": [f"lib/python3.11/site-packages/{dist_dir.name}/METADATA"],
    }
    _put(root, f"{env}/conda-meta/pyyaml-{dist.version}-py311h459d7ec_1.json", json.dumps(record).encode())
    _put(root, "usr/local/cuda-12.4/version.json", b'{"cuda": {"name": "CUDA SDK", "version": "12.4.1"}}')
    _put(root, "usr/lib/x86_64-linux-gnu/libnccl.so.2.21.5", b"\x7fELF")
    return root


def test_rootfs_scan_lists_the_inventory(dl_rootfs: Path) -> None:
    from shareguard.image.scan import scan_rootfs

    regs = load_registries()
    ctx = ScanContext(settings=Settings.from_env(), root=dl_rootfs, command="rootfs")
    scan_rootfs(dl_rootfs, regs, ctx)
    [info] = ctx.facts.of(OSInfo)
    pkgs = ctx.facts.of(Package)
    assert info.id and info.path in ("etc/os-release", "usr/lib/os-release")
    names = {(p.ecosystem, p.name) for p in pkgs}
    assert ("generic", "cuda") in names and ("generic", "nccl") in names and ("conda", "pyyaml") in names
    assert any(p.name == "libc6" and p.source_name == "glibc" for p in pkgs)
    pypi = [p for p in pkgs if p.ecosystem == "PyPI" and p.name == "pyyaml"]
    conda_owned = [p for p in pypi if dict(p.extra).get("installer") == "conda"]
    assert len(conda_owned) == 1
    os_owned = [p for p in pypi if p.path.startswith("usr/lib/python3/dist-packages/")]
    assert all(p.os_managed for p in os_owned)
    [conda] = [p for p in pkgs if p.ecosystem == "conda"]
    assert dict(conda.extra)["pypi_path"] == conda_owned[0].path and "pypi_name" not in dict(conda.extra)
