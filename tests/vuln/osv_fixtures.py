"""OSV documents and stores for the vulnerability tests: real PyPA advisories (the bundled snapshot's,
the committed subset in tests/data, the whole database from shared data), or OSV JSON written here in
the exact shape OSV publishes."""

from __future__ import annotations

import json
import zipfile
from importlib import resources
from pathlib import Path
from typing import Any

import pytest

from shareguard.vuln.importer import import_path
from shareguard.vuln.snapshot import SNAPSHOT_ZIP
from shareguard.vuln.store import VulnStore


def pypa_vulns(shared_data: Path) -> Path:
    """The whole PyPA advisory database (a large corpus: only in shared data, skipped without it)."""
    path = shared_data / "osv" / "pypa-advisory-database" / "vulns"
    if not path.is_dir():
        pytest.skip("PyPA advisory database not in shared data")
    return path


def bundled_pypa_advisories(directory: Path) -> Path:
    """The real PyPA advisories of the bundled snapshot (1,000+ records of the key ML packages, CC-BY 4.0),
    written to `directory` as OSV JSON; shareguard's own records in it (`shareguard/`) are left out."""
    directory.mkdir(parents=True, exist_ok=True)
    with (
        resources.as_file(resources.files("shareguard.vuln.data").joinpath(SNAPSHOT_ZIP)) as path,
        zipfile.ZipFile(path) as zf,
    ):
        for name in zf.namelist():
            package, _, file = name.partition("/")
            if file.endswith(".json") and package != "shareguard":
                (directory / file).write_bytes(zf.read(name))
    return directory


def write_advisories(directory: Path, docs: list[dict[str, Any]]) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    for doc in docs:
        (directory / f"{doc['id']}.json").write_text(json.dumps(doc), encoding="utf-8")
    return directory


def store_from(tmp: Path, docs: list[dict[str, Any]]) -> VulnStore:
    src = write_advisories(tmp / "osv", docs)
    store = VulnStore(tmp / "vuln.sqlite", create=True)
    report = import_path(store, src)
    assert not report.rejected, report.rejected
    return store


def advisory(
    adv_id: str,
    ecosystem: str,
    name: str,
    events: list[dict[str, str]],
    *,
    range_type: str = "ECOSYSTEM",
    versions: list[str] | None = None,
    **extra: Any,
) -> dict[str, Any]:
    """An OSV 1.6 record with one affected package and one range."""
    affected: dict[str, Any] = {
        "package": {"ecosystem": ecosystem, "name": name},
        "ranges": [{"type": range_type, "events": events}],
    }
    if versions is not None:
        affected["versions"] = versions
    affected.update(extra.pop("affected_extra", {}))
    doc: dict[str, Any] = {
        "schema_version": "1.6.0",
        "id": adv_id,
        "modified": "2024-05-01T00:00:00Z",
        "published": "2024-04-01T00:00:00Z",
        "summary": f"test advisory {adv_id}",
        "affected": [affected],
    }
    doc.update(extra)
    return doc
