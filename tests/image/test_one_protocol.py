"""The inventory analyzers are file analyzers: one registry kind, one dispatch, every source."""

from __future__ import annotations

from pathlib import Path

from shareguard.core.analyzer import FileAnalyzer, PostAnalyzer, runs_on
from shareguard.core.context import ScanContext
from shareguard.core.dispatch import PathDispatch
from shareguard.core.facts import OSInfo, Package
from shareguard.core.registry import load_registries
from shareguard.core.settings import Settings
from shareguard.image.analyzer import InventoryFinalizer
from shareguard.image.scan import file_analyzers, scan_rootfs
from shareguard.scan import run_path_scan

METADATA = b"Metadata-Version: 2.1\nName: Requests\nVersion: 2.0.0\n\nbody\n"
STATUS = b"Package: zlib1g\nStatus: install ok installed\nVersion: 1:1.2.13\nArchitecture: amd64\n\n"


def test_inventory_analyzers_are_registered_as_file_analyzers() -> None:
    regs = load_registries(("shareguard.image.plugin",))
    names = regs.of(FileAnalyzer).names()  # type: ignore[type-abstract]
    assert {"inventory.dpkg", "inventory.python", "inventory.os-release"} <= set(names)
    assert all(isinstance(a, FileAnalyzer) for a in regs.of(FileAnalyzer))  # type: ignore[type-abstract]
    assert len(regs.of(InventoryFinalizer))  # type: ignore[type-abstract]
    by_name = {a.name: a for a in regs.of(FileAnalyzer)}  # type: ignore[type-abstract]
    assert runs_on(by_name["inventory.python"], "workspace") and runs_on(by_name["inventory.conda"], "workspace")
    assert not runs_on(by_name["inventory.dpkg"], "workspace") and runs_on(by_name["inventory.dpkg"], "rootfs")
    assert {a.name for a in file_analyzers(regs, "image")} == set(names)


def test_a_vendored_site_packages_tree_is_inventoried_in_a_workspace(tmp_path: Path) -> None:
    root = tmp_path / "ws"
    meta = root / "vendor/lib/python3.11/site-packages/requests-2.0.0.dist-info/METADATA"
    meta.parent.mkdir(parents=True)
    meta.write_bytes(METADATA)
    status = root / "var/lib/dpkg/status"  # an OS database means nothing without its finalizers
    status.parent.mkdir(parents=True)
    status.write_bytes(STATUS)
    result = run_path_scan(root, settings=Settings(cache_dir=tmp_path / "cache", offline=True))
    pkgs = {(p.name, p.version, p.ecosystem) for p in result.facts.of(Package) if p.path.endswith("METADATA")}
    assert pkgs == {("requests", "2.0.0", "PyPI")}
    assert not [p for p in result.facts.of(Package) if p.ecosystem == "Debian"]
    assert "vendor/lib/python3.11/site-packages/requests-2.0.0.dist-info/METADATA" in (
        result.coverage.inputs["inventory.python"].evaluated_paths
    )


def test_links_are_followed_only_by_analyzers_that_say_so(tmp_path: Path) -> None:
    regs = load_registries()
    dispatch = PathDispatch(file_analyzers(regs, "image"), ScanContext(settings=Settings(cache_dir=tmp_path)))
    assert [a.name for a in dispatch.linking("etc/os-release", 0)] == ["inventory.os-release"]
    assert dispatch.linking("app/Dockerfile", 0) == []


def test_an_inventory_error_leaves_the_matchers_duties_incomplete(tmp_path: Path) -> None:
    root = tmp_path / "root"
    (root / "etc").mkdir(parents=True)
    (root / "etc/os-release").write_text("ID=debian\nVERSION_ID=12\n")
    (root / "var/lib/rpm").mkdir(parents=True)
    (root / "var/lib/rpm/rpmdb.sqlite").write_bytes(b"\x00" * 100)  # not a database
    regs = load_registries()
    ctx = ScanContext(settings=Settings(cache_dir=tmp_path / "cache", offline=True), command="rootfs")
    result = scan_rootfs(root, regs, ctx)
    [issue] = [i for i in result.issues if i.kind == "error"]
    assert issue.analyzer == "inventory.rpm" and issue.path == "var/lib/rpm/rpmdb.sqlite"
    assert [o.id for o in result.facts.of(OSInfo)] == ["debian"]
    posts = regs.of(PostAnalyzer)  # type: ignore[type-abstract]
    matcher_duties = {c for post in posts if Package in post.inputs for c in post.controls}
    gaps = {c for c, duty in result.coverage.duties.items() if duty.gaps}
    assert matcher_duties and gaps >= matcher_duties
