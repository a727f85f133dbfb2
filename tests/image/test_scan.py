"""The image pipeline end to end with analyzers registered by the test, over real package metadata."""

from __future__ import annotations

import sys
import uuid
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "sources"))

from imagebuild import (
    FilesProbe,
    directory,
    dist_info,
    file,
    hardlink,
    make_layer,
    opaque,
    probe_registries,
    real_dpkg_status,
    standard_image_layers,
    symlink,
    tar_directory,
    write_docker_archive,
    write_oci_layout,
)

from shareguard.core.analyzer import FileAnalyzer
from shareguard.core.context import ScanContext
from shareguard.core.facts import ImageIdentity, OSInfo, Package
from shareguard.core.registry import Registries, load_registries
from shareguard.core.result import ScanResult
from shareguard.core.settings import Settings
from shareguard.image.scan import scan_image
from shareguard.sources.image.open import open_image_path


def scan(path: Path, regs: Registries, cache: Path, **kw: object) -> ScanResult:
    ctx = ScanContext(settings=Settings(cache_dir=cache))
    return scan_image(open_image_path(path, "linux/amd64"), regs, ctx, **kw)  # type: ignore[arg-type]


def _packages(result: ScanResult) -> set[tuple[str, str, str]]:
    return {(p.ecosystem, p.name, p.version) for p in result.facts.of(Package)}


def test_standard_image_inventory(tmp_path: Path) -> None:
    layers = standard_image_layers()
    write_oci_layout(tmp_path / "oci", layers)
    files = FilesProbe()
    result = scan(tmp_path / "oci", probe_registries(finalizer=files), tmp_path / "cache")
    assert not result.issues
    os_facts = {o.path: o for o in result.facts.of(OSInfo)}
    # Debian's etc/os-release is a symlink: it is analyzed with its target's content.
    assert os_facts["etc/os-release"].id == os_facts["usr/lib/os-release"].id != ""
    pkgs = result.facts.of(Package)
    pypi = {p.name: p for p in pkgs if p.ecosystem == "PyPI"}
    assert "packaging" in pypi and pypi["packaging"].layer == layers[1].diff_id
    assert all(name.lower() != "pyyaml" for name in pypi)  # whited out in layer 3
    status = real_dpkg_status()
    if status:
        debs = [p for p in pkgs if p.ecosystem == "Debian"]
        assert len(debs) == status.count(b"\nStatus: install ok installed") + status.startswith(
            b"Status: install ok installed"
        )
        assert {p.layer for p in debs} == {layers[0].diff_id}
    assert files.files["app/main.py"] == layers[2].diff_id
    assert files.files["etc/os-release"] == layers[0].diff_id
    assert not any("PyYAML" in p or "pyyaml" in p.lower() for p in files.files)
    (ident,) = result.facts.of(ImageIdentity)
    assert ident.layers == tuple(la.diff_id for la in layers)
    assert ident.digest and ident.config_digest and ident.platform == "linux/amd64"


def test_all_formats_give_the_same_inventory(tmp_path: Path) -> None:
    layers = standard_image_layers(("gzip", "gzip", "tar"))
    write_oci_layout(tmp_path / "oci", layers)
    tar_directory(tmp_path / "oci", tmp_path / "oci.tar")
    write_docker_archive(tmp_path / "docker.tar", layers)
    results = [
        _packages(scan(tmp_path / n, probe_registries(), tmp_path / f"c-{n}")) for n in ("oci", "oci.tar", "docker.tar")
    ]
    assert results[0] == results[1] == results[2]
    assert results[0]


def test_opaque_dir_and_replaced_files(tmp_path: Path) -> None:
    pkg = dist_info("packaging")
    assert pkg is not None
    meta = (pkg / "METADATA").read_bytes()
    sp = "opt/conda/lib/python3.11/site-packages"
    lower = make_layer(
        [file(f"{sp}/packaging-1.dist-info/METADATA", meta), file("usr/lib/x/a-1.dist-info/METADATA", meta)]
    )
    upper = make_layer(
        [
            opaque("opt/conda"),
            file("opt/conda/new.txt", "x"),
            # Replaced by a file no analyzer can read: the lower facts for that path are gone.
            file("usr/lib/x/a-1.dist-info/METADATA", b"\0garbage"),
        ]
    )
    write_oci_layout(tmp_path / "oci", [lower, upper])
    files = FilesProbe()
    result = scan(tmp_path / "oci", probe_registries(finalizer=files), tmp_path / "cache")
    pypi = [p for p in result.facts.of(Package) if p.path.startswith(sp)]
    assert pypi == []
    assert "opt/conda/new.txt" in files.files and not any(p.startswith(f"{sp}/") for p in files.files)
    replaced = [p for p in result.facts.of(Package) if p.path.startswith("usr/lib/x/")]
    assert all(p.layer == upper.diff_id for p in replaced)


def test_hard_link_to_wanted_file(tmp_path: Path) -> None:
    os_release = b'ID=testos\nVERSION_ID="1"\n'
    layer = make_layer(
        [directory("usr/lib"), file("usr/lib/os-release", os_release), hardlink("etc/os-release", "usr/lib/os-release")]
    )
    write_oci_layout(tmp_path / "oci", [layer])
    result = scan(tmp_path / "oci", probe_registries(), tmp_path / "cache")
    assert {o.path: o.id for o in result.facts.of(OSInfo)} == {
        "etc/os-release": "testos",
        "usr/lib/os-release": "testos",
    }


def test_symlink_loops_and_escapes_are_reported_never_followed(tmp_path: Path) -> None:
    layer = make_layer(
        [
            symlink("etc/os-release", "os-release2"),
            symlink("etc/os-release2", "os-release"),
            symlink("usr/lib/os-release", "../../../../../../etc/os-release"),
            file("ok", "1"),
        ]
    )
    write_oci_layout(tmp_path / "oci", [layer])
    result = scan(tmp_path / "oci", probe_registries(), tmp_path / "cache")
    messages = " | ".join(i.message for i in result.issues)
    assert "loop" in messages and "outside the root" in messages
    assert result.facts.of(OSInfo) == []
    assert not result.has_errors()  # warnings: the rest of the image was scanned


def test_corrupt_layer_is_an_error_and_the_rest_is_scanned(tmp_path: Path) -> None:
    layers = standard_image_layers(("gzip", "gzip", "gzip"))
    root = tmp_path / "oci"
    write_oci_layout(root, layers)
    blob = root / "blobs" / "sha256" / layers[2].digest.split(":", 1)[1]
    blob.write_bytes(blob.read_bytes()[:-20])
    result = scan(root, probe_registries(), tmp_path / "cache")
    assert result.has_errors()
    errors = [i for i in result.issues if i.kind == "error"]
    assert len(errors) == 1 and errors[0].path.startswith("layer 3")
    assert any(p.name == "packaging" for p in result.facts.of(Package))


def test_hostile_image_writes_nothing_outside(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    token = f"shareguard-escape-{uuid.uuid4().hex}"
    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.chdir(work)
    layer = make_layer(
        [
            file(f"../../{token}", "x"),
            file(f"/tmp/{token}", "x"),
            symlink("evil", f"../../../../tmp/{token}"),
            hardlink("evil2", f"../../{token}"),
            file("etc/os-release", "ID=debian\n"),
        ]
    )
    write_oci_layout(tmp_path / "oci", [layer])
    before = set(tmp_path.rglob("*"))
    result = scan(tmp_path / "oci", probe_registries(), tmp_path / "cache")
    created = set(tmp_path.rglob("*")) - before
    assert all(p.is_relative_to(tmp_path / "cache") for p in created)
    assert not list(Path("/tmp").glob(f"{token}*")) and not list(tmp_path.parent.glob(f"{token}*"))
    assert not list(work.iterdir())
    assert result.has_errors()
    assert [o.id for o in result.facts.of(OSInfo)] == ["debian"]


def test_with_the_registered_inventory_analyzers(tmp_path: Path) -> None:
    """Whatever `shareguard.image.plugin` registers finds the real OS packages of the test image."""
    regs = load_registries(("shareguard.image.plugin",))
    if not len(regs.of(FileAnalyzer)):  # type: ignore[type-abstract]
        pytest.skip("no inventory analyzers registered yet")
    status = real_dpkg_status()
    if not status:
        pytest.skip("this machine has no dpkg status file")
    layers = standard_image_layers()
    write_oci_layout(tmp_path / "oci", layers)
    result = scan(tmp_path / "oci", regs, tmp_path / "cache")
    names = {p.name for p in result.facts.of(Package)}
    assert "dpkg" in names or "base-files" in names
    assert "packaging" in names


def test_a_layer_that_cannot_be_read_never_passes_a_duty(tmp_path: Path) -> None:
    """With the real plugins: the vulnerability duties (and the file analyzers' duties, since the unread
    layer may hold anything) are incomplete, never pass, when a layer could not be read."""
    from shareguard.catalog import load_catalog
    from shareguard.report.rollup import DutyStatus, rollup

    layers = standard_image_layers(("gzip", "gzip", "gzip"))
    root = tmp_path / "oci"
    write_oci_layout(root, layers)
    blob = root / "blobs" / "sha256" / layers[2].digest.split(":", 1)[1]
    blob.write_bytes(blob.read_bytes()[:-20])
    result = scan(root, load_registries(), tmp_path / "cache")
    rows = {d.control.id: d for d in rollup(result, load_catalog()).duties()}
    for cid in ("DLC-C-02", "DLVM-C-02", "DATAFLOW-C-03"):
        assert rows[cid].status in (DutyStatus.INCOMPLETE, DutyStatus.FAIL), cid
        assert rows[cid].status is not DutyStatus.PASS
    assert any(g.path.startswith("layer 3") for g in rows["DLC-C-02"].gaps)


def test_layers_are_read_with_a_quick_gil_handoff_and_the_interval_is_restored(tmp_path: Path) -> None:
    """The inflater thread re-takes the GIL per step: layers are read with a short switch interval
    (`sources.image.libz.quick_handoff`), and the process's own interval is back once the scan returns."""
    layers = standard_image_layers()
    write_oci_layout(tmp_path / "oci", layers)
    before = sys.getswitchinterval()
    seen: list[float] = []
    scan(
        tmp_path / "oci",
        probe_registries(finalizer=FilesProbe()),
        tmp_path / "cache",
        on_layer=lambda _layer, _hit: seen.append(sys.getswitchinterval()),
    )
    assert seen and max(seen) <= 0.0005 * 1.01 < before
    assert sys.getswitchinterval() == before
