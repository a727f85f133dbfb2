"""Oversized inventory files and special files at wanted paths are reported, never skipped in silence
(#14 item 8): an error naming the analyzer, so the vulnerability matcher's duties are incomplete and the
scan exits 3, on a root filesystem, an image layer and a workspace alike."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "sources"))

from imagebuild import Entry, file, make_layer, write_oci_layout

from shareguard.core.analyzer import PostAnalyzer
from shareguard.core.context import ScanContext
from shareguard.core.facts import OSInfo, Package
from shareguard.core.registry import Registries, load_registries
from shareguard.core.result import ScanResult
from shareguard.core.settings import Settings
from shareguard.image.analyzers import dpkg
from shareguard.image.scan import scan_image, scan_rootfs
from shareguard.scan import run_path_scan
from shareguard.sources.image.open import open_image_path

MIB = 1024 * 1024
STATUS = b"Package: zlib1g\nStatus: install ok installed\nVersion: 1:1.2.13\nArchitecture: amd64\n\n"
SITE = "usr/lib/python3/dist-packages/requests-2.0.0.dist-info"


def _sparse(path: Path, size: int) -> None:
    """A file of `size` bytes that costs no disk (never read by the scan: that is the point)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("wb") as fh:
        fh.truncate(size)


def _matcher_duties(regs: Registries) -> set[str]:
    posts = regs.of(PostAnalyzer)  # type: ignore[type-abstract]
    return {c for post in posts if Package in post.inputs for c in post.controls}


def _errors(result: ScanResult) -> dict[str, tuple[str | None, str]]:
    return {i.path: (i.analyzer, i.message) for i in result.issues if i.kind == "error"}


def test_rootfs_oversized_inventory_files_and_a_fifo_are_errors(tmp_path: Path) -> None:
    root = tmp_path / "root"
    (root / "etc").mkdir(parents=True)
    (root / "etc/os-release").write_text("ID=debian\nVERSION_ID=12\n")
    _sparse(root / "var/lib/dpkg/status", 129 * MIB)
    _sparse(root / SITE / "METADATA", 17 * MIB)
    (root / "var/lib/rpm").mkdir(parents=True)
    os.mkfifo(root / "var/lib/rpm/rpmdb.sqlite")  # a FIFO at a wanted path: never opened, but said
    regs = load_registries()
    ctx = ScanContext(settings=Settings(cache_dir=tmp_path / "cache", offline=True), command="rootfs")
    result = scan_rootfs(root, regs, ctx)
    errors = _errors(result)
    assert errors["var/lib/dpkg/status"] == (
        "inventory.dpkg",
        f"not analysed: {129 * MIB} bytes is over the {128 * MIB}-byte budget of inventory.dpkg",
    )
    assert errors[f"{SITE}/METADATA"] == (
        "inventory.python",
        f"not analysed: {17 * MIB} bytes is over the {16 * MIB}-byte budget of inventory.python",
    )
    assert errors["var/lib/rpm/rpmdb.sqlite"] == ("inventory.rpm", "not analysed: a FIFO, not a regular file")
    assert result.has_errors()  # exit 3, not 0
    assert [o.id for o in result.facts.of(OSInfo)] == ["debian"]
    gaps = {c for c, duty in result.coverage.duties.items() if duty.gaps}
    assert _matcher_duties(regs) and gaps >= _matcher_duties(regs)


def test_image_layer_over_an_analyzer_budget_and_a_fifo_are_errors(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(dpkg, "_MAX_STATUS", 64 * 1024)  # the same path as 128 MiB, with a small layer
    big = STATUS * (200 * 1024 // len(STATUS))
    base = make_layer([file("etc/os-release", "ID=debian\nVERSION_ID=12\n"), file("var/lib/dpkg/status", big)])
    upper = make_layer([Entry("var/lib/rpm/rpmdb.sqlite", type=b"6"), Entry("dev/null", type=b"3")])
    write_oci_layout(tmp_path / "oci", [base, upper])
    regs = load_registries()
    ctx = ScanContext(settings=Settings(cache_dir=tmp_path / "cache", offline=True))
    result = scan_image(open_image_path(tmp_path / "oci", "linux/amd64"), regs, ctx, use_cache=False)
    errors = _errors(result)
    assert errors["var/lib/dpkg/status"] == (
        "inventory.dpkg",
        f"not analysed: {len(big)} bytes is over the {64 * 1024}-byte budget of inventory.dpkg",
    )
    assert errors["var/lib/rpm/rpmdb.sqlite"] == ("inventory.rpm", "not analysed: a FIFO, not a regular file")
    assert "dev/null" not in errors  # a device nobody wants: the source's warning only
    assert not [p for p in result.facts.of(Package) if p.ecosystem == "Debian"]
    gaps = {c for c, duty in result.coverage.duties.items() if duty.gaps}
    assert gaps >= _matcher_duties(regs)


def test_workspace_oversized_metadata_is_an_error(tmp_path: Path) -> None:
    root = tmp_path / "ws"
    meta = root / "vendor/lib/python3.11/site-packages/requests-2.0.0.dist-info/METADATA"
    _sparse(meta, 17 * MIB)
    result = run_path_scan(root, settings=Settings(cache_dir=tmp_path / "cache", offline=True))
    [issue] = [i for i in result.issues if i.kind == "error"]
    assert issue.analyzer == "inventory.python" and issue.path.endswith("METADATA")
    assert f"over the {16 * MIB}-byte budget of inventory.python" in issue.message
