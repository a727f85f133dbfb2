"""Root filesystem walk: never follows symlinks out, survives loops and special files, skips pseudo fs."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
from imagebuild import FilesProbe, dist_info, probe_registries, real_dpkg_status

from shareguard.core.analyzer import FileAnalyzer
from shareguard.core.context import ScanContext
from shareguard.core.dispatch import PathDispatch
from shareguard.core.errors import InputError
from shareguard.core.facts import OSInfo, Package
from shareguard.core.settings import Budgets, Settings
from shareguard.image.scan import LayerCollector, scan_rootfs
from shareguard.sources.rootfs import pseudo_mounts, walk_rootfs


@pytest.fixture
def rootfs(tmp_path: Path) -> Path:
    root = tmp_path / "root"
    (root / "usr/lib").mkdir(parents=True)
    (root / "etc").mkdir()
    src = Path("/usr/lib/os-release") if Path("/usr/lib/os-release").is_file() else Path("/etc/os-release")
    shutil.copy(src, root / "usr/lib/os-release")
    (root / "etc/os-release").symlink_to("../usr/lib/os-release")
    status = real_dpkg_status()
    if status:
        (root / "var/lib/dpkg").mkdir(parents=True)
        (root / "var/lib/dpkg/status").write_bytes(status)
    sp = root / "usr/local/lib/python3.11/site-packages"
    sp.mkdir(parents=True)
    info = dist_info("packaging")
    assert info is not None
    shutil.copytree(info, sp / info.name)
    # Hostile and awkward entries.
    (root / "loop-a").symlink_to("loop-b")
    (root / "loop-b").symlink_to("loop-a")
    (root / "host").symlink_to("/")
    (root / "escape").symlink_to("../../../../../../etc/shadow")
    (root / "usr/lib/self").symlink_to(".")
    os.mkfifo(root / "fifo")
    return root


def test_rootfs_inventory(rootfs: Path, tmp_path: Path) -> None:
    files = FilesProbe()
    ctx = ScanContext(settings=Settings(cache_dir=tmp_path / "cache"), root=rootfs)
    result = scan_rootfs(rootfs, probe_registries(finalizer=files), ctx)
    assert not result.has_errors()
    os_facts = {o.path: o.id for o in result.facts.of(OSInfo)}
    assert os_facts["etc/os-release"] == os_facts["usr/lib/os-release"] != ""
    names = {p.name for p in result.facts.of(Package)}
    assert "packaging" in names
    if real_dpkg_status():
        assert any(p.ecosystem == "Debian" for p in result.facts.of(Package))
    assert all(p.layer is None for p in result.facts.of(Package))
    assert "loop" in " ".join(i.message for i in result.issues)
    # Symlinks are listed, never followed: nothing below host/ or usr/lib/self/.
    assert "host" in files.files and not any(p.startswith(("host/", "usr/lib/self/")) for p in files.files)
    assert "fifo" not in files.files
    assert not (tmp_path / "cache").exists()


def test_pseudo_mounts_are_skipped(tmp_path: Path, rootfs: Path) -> None:
    (rootfs / "proc/1").mkdir(parents=True)
    (rootfs / "proc/1/environ").write_text("SECRET=1")
    mountinfo = tmp_path / "mountinfo"
    mountinfo.write_text(
        f"22 1 0:21 / {rootfs}/proc rw,nosuid - proc proc rw\n"
        "23 1 8:1 / / rw,relatime - ext4 /dev/vda1 rw\n"
        "24 22 0:22 / /sys rw - sysfs sysfs rw\n"
        "garbage line\n"
    )
    mounts = pseudo_mounts(mountinfo)
    assert mounts == {f"{rootfs}/proc", "/sys"}
    collector = LayerCollector(None)
    walk_rootfs(rootfs, collector, Budgets(), mounts=mounts)
    assert not any(p.startswith("proc/") for p in collector.result.paths)


def test_file_budget_is_an_error(rootfs: Path) -> None:
    collector = LayerCollector(None)
    walk_rootfs(rootfs, collector, Budgets(max_files=3))
    assert any(is_error and "more than 3 files" in msg for _, msg, is_error in collector.result.issues)


def test_big_wanted_file_is_not_read(rootfs: Path, tmp_path: Path) -> None:
    (rootfs / "var/lib/dpkg").mkdir(parents=True, exist_ok=True)
    (rootfs / "var/lib/dpkg/status").write_bytes(b"Package: x\n" * 1000)
    regs = probe_registries()
    analyzers = list(regs.of(FileAnalyzer))  # type: ignore[type-abstract]
    collector = LayerCollector(None, PathDispatch(analyzers, ScanContext(settings=Settings())))
    walk_rootfs(rootfs, collector, Budgets(max_member_bytes=100))
    assert any("budget" in msg for path, msg, _ in collector.result.issues if path == "var/lib/dpkg/status")


def test_not_a_directory(tmp_path: Path) -> None:
    (tmp_path / "f").write_text("x")
    with pytest.raises(InputError, match="not a directory"):
        walk_rootfs(tmp_path / "f", LayerCollector(None), Budgets())
    with pytest.raises(InputError, match="cannot access"):
        walk_rootfs(tmp_path / "missing", LayerCollector(None), Budgets())


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads everything")
def test_unreadable_directory_is_a_warning(rootfs: Path) -> None:
    locked = rootfs / "locked"
    locked.mkdir()
    locked.chmod(0)
    try:
        collector = LayerCollector(None)
        walk_rootfs(rootfs, collector, Budgets())
        assert any(p == "locked" and not e for p, _, e in collector.result.issues)
    finally:
        locked.chmod(0o755)


def test_the_own_cache_directory_inside_the_root_is_not_scanned(rootfs: Path) -> None:
    """A scan of a live root holding shareguard's cache (the host's `/` and `~/.cache/shareguard`): its layer
    and data entries are shareguard's, not the filesystem's content; a directory merely named alike is read."""
    for rel in ("var/cache/sg/data/x.json", "var/cache/sg/layers/y", "var/cache/sgx/w.json"):
        (rootfs / rel).parent.mkdir(parents=True, exist_ok=True)
        (rootfs / rel).write_text("{}", encoding="utf-8")
    files = FilesProbe()
    ctx = ScanContext(settings=Settings(cache_dir=rootfs / "var/cache/sg"), root=rootfs)
    scan_rootfs(rootfs, probe_registries(finalizer=files), ctx)
    assert "var/cache/sgx/w.json" in files.files
    assert not any(p.startswith("var/cache/sg/") for p in files.files)
    skipped = [i for i in ctx.issues if i.path.endswith(": var/cache/sg")]
    assert [i.kind for i in skipped] == ["warning"] and "cache directory" in skipped[0].message
