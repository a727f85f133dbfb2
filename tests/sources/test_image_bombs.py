"""CPU denial of service by image layers (#14 item 6): inflated bytes are bounded per layer and per image
(gzip never reaches the ratio guard), and a path repeated in one layer is analyzed once, as its last copy."""

from __future__ import annotations

import gzip
import time
from pathlib import Path

import pytest
from imagebuild import OsReleaseProbe, file, layer_tar, make_layer, probe_registries, write_oci_layout

from shareguard.core.analyzer import FileAnalyzer
from shareguard.core.context import ScanContext
from shareguard.core.facts import OSInfo, Package
from shareguard.core.registry import Registries, load_registries
from shareguard.core.result import ScanResult
from shareguard.core.settings import Budgets, Settings
from shareguard.image.scan import scan_image
from shareguard.sources.image.layer import MAX_RATIO
from shareguard.sources.image.open import open_image_path

MIB = 1024 * 1024


def _scan(root: Path, tmp_path: Path, budgets: Budgets, registries=None) -> ScanResult:  # type: ignore[no-untyped-def]
    settings = Settings(cache_dir=tmp_path / "cache", budgets=budgets)
    return scan_image(
        open_image_path(root, "linux/amd64"),
        registries or probe_registries(),
        ScanContext(settings=settings),
        use_cache=False,
    )


def test_gzip_bomb_under_the_ratio_guard_is_stopped_by_the_layer_budget(tmp_path: Path) -> None:
    base = make_layer([file("etc/os-release", "ID=debian\n")])
    bomb = make_layer([file("zeros", b"\0" * (40 * MIB))])
    assert len(bomb.tar) / len(bomb.blob) < MAX_RATIO  # deflate's ceiling: the ratio guard never fires
    write_oci_layout(tmp_path / "oci", [base, bomb])
    started = time.monotonic()
    result = _scan(tmp_path / "oci", tmp_path, Budgets(max_layer_inflated_bytes=16 * MIB))
    assert time.monotonic() - started < 60
    errors = [i for i in result.issues if i.kind == "error"]
    assert [i.message for i in errors] == [f"layer not scanned: inflated past {16 * MIB} bytes (the per-layer budget)"]
    assert errors[0].path.startswith("layer 2 ")
    assert [o.id for o in result.facts.of(OSInfo)] == ["debian"]  # the other layer is scanned
    assert result.has_errors()


def test_the_image_budget_bounds_the_layers_together(tmp_path: Path) -> None:
    layers = [make_layer([file(f"f{i}", b"\0" * (12 * MIB)), file("etc/os-release", f"ID=l{i}\n")]) for i in range(3)]
    write_oci_layout(tmp_path / "oci", layers)
    budgets = Budgets(max_layer_inflated_bytes=16 * MIB, max_image_inflated_bytes=20 * MIB)
    result = _scan(tmp_path / "oci", tmp_path, budgets)
    errors = {i.path.split(" ")[1]: i.message for i in result.issues if i.kind == "error"}
    assert errors == {
        "2": f"layer not scanned: the image inflated past {20 * MIB} bytes (the per-image budget)",
        "3": f"layer not scanned: the image inflated past {20 * MIB} bytes (the per-image budget); not read",
    }
    assert [o.id for o in result.facts.of(OSInfo)] == ["l0"]


def test_default_budgets_fit_real_images() -> None:
    budgets = Budgets()
    assert budgets.max_layer_inflated_bytes >= 16 * 1024 * MIB  # the largest real DL layers: ~8-12 GB
    assert budgets.max_image_inflated_bytes >= 64 * 1024 * MIB  # the largest real DL images: ~20-30 GB
    assert budgets.max_layer_inflated_bytes <= budgets.max_image_inflated_bytes


def test_gzip_ratio_guard_alone_never_fires_on_deflate() -> None:
    data = layer_tar([file("zeros", b"\0" * (8 * MIB))])
    assert len(data) / len(gzip.compress(data, 9)) < MAX_RATIO


def _counting_registries() -> tuple[Registries, OsReleaseProbe]:
    regs = probe_registries()
    probe = next(a for a in regs.of(FileAnalyzer) if isinstance(a, OsReleaseProbe))  # type: ignore[type-abstract]
    return regs, probe


@pytest.mark.parametrize("size", [100, 9 * MIB])  # in memory, and spooled by the layer walk
def test_a_path_repeated_in_a_layer_is_analyzed_as_its_last_copy(tmp_path: Path, size: int) -> None:
    copies = [file("etc/os-release", f"ID=copy{i}\n".encode().ljust(size, b"#")) for i in range(30)]
    write_oci_layout(tmp_path / "oci", [make_layer([*copies, file("app/x", "y")])])
    regs, probe = _counting_registries()
    result = _scan(tmp_path / "oci", tmp_path, Budgets(), regs)
    assert [o.id for o in result.facts.of(OSInfo)] == ["copy29"]  # the layer's final state, once
    assert len(probe.calls) <= 2  # the first copy (analyzed before the repeat is known) and the last
    assert not [p for p in (tmp_path / "cache" / "tmp").glob("*")]  # spooled copies deleted


def test_the_last_copy_wins_across_sizes_and_budgets(tmp_path: Path) -> None:
    """Small, then over the analyzer's budget: the final state is the oversized file (an error), not the
    small one's facts."""
    dist = "usr/lib/python3/dist-packages/a-1.dist-info/METADATA"
    small = file(dist, "Metadata-Version: 2.1\nName: a\nVersion: 1\n\n")
    layer = make_layer([small, file(dist, b"Name: a\n" + b"#" * (17 * MIB))], "tar")
    write_oci_layout(tmp_path / "oci", [layer])
    regs = load_registries(("shareguard.image.plugin",))
    result = _scan(tmp_path / "oci", tmp_path, Budgets(), regs)
    assert not [p for p in result.facts.of(Package) if p.name == "a"]
    [error] = [i for i in result.issues if i.kind == "error"]
    assert error.analyzer == "inventory.python" and "over the" in error.message


def test_thirty_copies_of_a_large_dpkg_status_take_two_parses(tmp_path: Path) -> None:
    para = b"Package: p%d\nStatus: install ok installed\nVersion: 1.%d\nArchitecture: amd64\n\n"
    status = b"".join(para % (i, i) for i in range(60_000))  # ~4 MB, ~60k packages
    copies = [file("var/lib/dpkg/status", status) for _ in range(29)]
    last = file("var/lib/dpkg/status", para % (1, 1))
    write_oci_layout(tmp_path / "oci", [make_layer([file("etc/os-release", "ID=debian\n"), *copies, last])])
    regs = load_registries(("shareguard.image.plugin",))
    started = time.monotonic()
    result = _scan(tmp_path / "oci", tmp_path, Budgets(), regs)
    elapsed = time.monotonic() - started
    debs = [p for p in result.facts.of(Package) if p.path == "var/lib/dpkg/status"]
    assert [(p.name, p.version) for p in debs] == [("p1", "1.1")]
    assert elapsed < 60
