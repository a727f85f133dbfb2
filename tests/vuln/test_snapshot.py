"""The bundled snapshot: small, dated, attributed, and rebuildable from the real PyPA data."""

from __future__ import annotations

import json
import zipfile
from importlib import resources
from pathlib import Path

from shareguard.vuln.snapshot import SNAPSHOT_META, SNAPSHOT_ZIP, build_snapshot, install_snapshot, snapshot_info
from shareguard.vuln.store import VulnStore


def test_snapshot_small_dated_attributed() -> None:
    data = resources.files("shareguard.vuln.data")
    size = len(data.joinpath(SNAPSHOT_ZIP).read_bytes())
    assert size < 2 * 1024 * 1024
    meta = json.loads(data.joinpath(SNAPSHOT_META).read_text(encoding="utf-8"))
    assert meta["license"] == "CC-BY-4.0" and "Python Packaging Authority" in meta["attribution"]
    info = snapshot_info()
    assert info.date.startswith("20") and len(info.commit) == 40
    with resources.as_file(data.joinpath(SNAPSHOT_ZIP)) as path, zipfile.ZipFile(path) as zf:
        assert "Attribution 4.0 International" in zf.read("LICENSE").decode()
        assert any(n.startswith("torch/") for n in zf.namelist())


def test_install_snapshot(tmp_path: Path) -> None:
    info = install_snapshot(tmp_path / "db" / "vuln.sqlite")
    with VulnStore(tmp_path / "db" / "vuln.sqlite") as store:
        (src,) = store.sources()
        assert src.source.startswith("bundled snapshot") and "CC-BY-4.0" in src.source
        assert src.imported_at.isoformat() == info.date
        assert store.counts()[0] == src.advisory_count > 500


def test_build_snapshot_from_real_data(tmp_path: Path, shared_data: Path) -> None:
    root = shared_data / "osv" / "pypa-advisory-database"
    info = build_snapshot(root, tmp_path, ("torch", "pyyaml"))
    assert info.advisories == 5
    assert (tmp_path / SNAPSHOT_META).is_file()
