"""The bundled snapshot: a small OSV all.zip of PyPA advisories for the key ML packages, plus the
OSV records shareguard authors itself (`data/shareguard/*.json`: framework versions whose model
loading runs code), shipped inside the package as the offline default (imported into the cache on
first use, and into an existing database whose bundled copy is older).

Rebuild it (maintainers) with:
    python -m shareguard.vuln.snapshot PATH/TO/pypa-advisory-database
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
import sys
import tempfile
import zipfile
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

from shareguard.core.errors import DatabaseError
from shareguard.vuln.importer import import_path
from shareguard.vuln.osv import load_document, parse_advisory
from shareguard.vuln.store import VulnStore

SNAPSHOT_PACKAGES = (
    "torch", "tensorflow", "tensorflow-gpu", "tensorflow-cpu", "keras", "transformers", "numpy", "scipy", "pandas",
    "scikit-learn", "pillow", "jinja2", "requests", "urllib3", "pyyaml", "setuptools", "pip", "wheel", "mlflow",
    "onnx", "protobuf", "aiohttp", "werkzeug", "flask", "cryptography", "certifi", "idna", "tornado",
    "jupyter-server", "notebook", "jupyterlab", "ipython", "gradio", "langchain", "nltk", "opencv-python", "lxml",
    "paramiko", "fastapi", "starlette", "gunicorn", "sqlalchemy", "tqdm", "dask", "distributed", "streamlit",
)  # fmt: skip

SNAPSHOT_ZIP = "snapshot.zip"
SNAPSHOT_META = "snapshot.json"
BUNDLED_META_KEY = "bundled_snapshot"
"""`meta` key: the label of the newest bundled snapshot imported into a database."""
AUTHORED_DIR = Path(__file__).parent / "data" / "shareguard"
"""OSV records written for shareguard (real GHSA ids where verified, else `SHAREGUARD-CVE-…` with the CVE
as alias); `build_snapshot` puts them into the zip under `shareguard/`."""


@dataclass(frozen=True)
class SnapshotInfo:
    date: str
    """Date of the advisory data (the upstream commit's date), ISO 8601."""
    source: str
    commit: str
    license: str
    advisories: int
    digest: str = ""
    """First hex digits of the zip's SHA-256: names this copy of the snapshot in the database."""

    @property
    def label(self) -> str:
        """The `sources` label of an import of this snapshot (changes whenever the zip does)."""
        tail = f" [{self.digest}]" if self.digest else ""
        return f"bundled snapshot: {self.source} @ {self.commit[:12]} ({self.license}){tail}"


@functools.cache
def snapshot_info() -> SnapshotInfo:
    data = resources.files("shareguard.vuln.data")
    meta = json.loads(data.joinpath(SNAPSHOT_META).read_text(encoding="utf-8"))
    digest = hashlib.sha256(data.joinpath(SNAPSHOT_ZIP).read_bytes()).hexdigest()[:12]
    return SnapshotInfo(meta["date"], meta["source"], meta["commit"], meta["license"], int(meta["advisories"]), digest)


def import_snapshot(store: VulnStore, info: SnapshotInfo, *, keep_newer: bool = False) -> int:
    """Import the bundled zip into `store` (one transaction); returns the number imported.
    `keep_newer`: an advisory already stored with a later or equal `modified` date is kept."""
    zip_ref = resources.files("shareguard.vuln.data").joinpath(SNAPSHOT_ZIP)
    with resources.as_file(zip_ref) as zpath:
        report = import_path(store, zpath, label=info.label, imported_at=info.date, keep_newer=keep_newer)
    if report.rejected:
        raise DatabaseError(f"bundled snapshot is damaged: {report.rejected[0].message}", path=report.rejected[0].path)
    with store.transaction() as db:
        store.set_meta(db, BUNDLED_META_KEY, info.label)
    return report.imported


def install_snapshot(db_path: Path) -> SnapshotInfo:
    """Create `db_path` from the bundled snapshot (atomically: concurrent scans see all or nothing)."""
    info = snapshot_info()
    db_path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".vuln.", suffix=".sqlite", dir=db_path.parent)
    os.close(fd)
    tmp_path = Path(tmp)
    tmp_path.unlink()
    try:
        with VulnStore(tmp_path, create=True) as store:
            import_snapshot(store, info)
        os.replace(tmp_path, db_path)
    finally:
        tmp_path.unlink(missing_ok=True)
    return info


def build_snapshot(
    pypa_root: Path, out_dir: Path, packages: tuple[str, ...] = SNAPSHOT_PACKAGES, authored: Path = AUTHORED_DIR
) -> SnapshotInfo:
    """Write `snapshot.zip` (OSV JSON, one file per advisory, plus the CC-BY-4.0 LICENSE) and `snapshot.json`.

    The records of `authored` whose packages are among `packages` go in too, under `shareguard/`."""
    vulns = pypa_root / "vulns"
    snap = (pypa_root / "SNAPSHOT").read_text(encoding="utf-8").split()
    commit = snap[0]
    from email.utils import parsedate_to_datetime

    date = parsedate_to_datetime(" ".join(snap[1:])).isoformat() if len(snap) > 1 else ""
    count = 0
    with zipfile.ZipFile(out_dir / SNAPSHOT_ZIP, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=9) as zf:
        for pkg in packages:
            folder = vulns / pkg
            if not folder.is_dir():
                continue
            for f in sorted(folder.glob("*.yaml")):
                doc = load_document(f.read_bytes(), f.name)
                zf.writestr(f"{pkg}/{f.stem}.json", json.dumps(doc, separators=(",", ":"), sort_keys=True))
                count += 1
        own = _authored(authored, packages)
        for name, doc in own:
            zf.writestr(f"shareguard/{name}", json.dumps(doc, separators=(",", ":"), sort_keys=True))
        zf.writestr("LICENSE", (pypa_root / "LICENSE").read_text(encoding="utf-8"))
    meta = {
        "date": date,
        "source": "PyPA advisory database (https://github.com/pypa/advisory-database)",
        "commit": commit,
        "license": "CC-BY-4.0",
        "attribution": "Advisories from the Python Packaging Authority advisory database, licensed CC-BY-4.0; "
        "converted from YAML to JSON and limited to the packages listed in `packages`, otherwise unchanged. "
        "The records under `shareguard/` are written by shareguard from the upstream advisories their "
        "references name (GitHub Security Advisories, CC-BY-4.0; NVD).",
        "advisories": count + len(own),
        "pypa_advisories": count,
        "shareguard_advisories": sorted(str(doc["id"]) for _name, doc in own),
        "packages": list(packages),
    }
    (out_dir / SNAPSHOT_META).write_text(json.dumps(meta, indent=2) + "\n", encoding="utf-8")
    return SnapshotInfo(date, str(meta["source"]), commit, "CC-BY-4.0", count + len(own))


def _authored(folder: Path, packages: tuple[str, ...]) -> list[tuple[str, dict[str, Any]]]:
    """(file name, OSV document) of the authored records that name one of `packages` (validated on the way)."""
    wanted = set(packages)
    out: list[tuple[str, dict[str, Any]]] = []
    for f in sorted(folder.glob("*.json")) if folder.is_dir() else []:
        doc = load_document(f.read_bytes(), f.name)
        adv = parse_advisory(doc)  # a malformed record fails the build, never the user's import
        if any(a.name in wanted for a in adv.affected):
            out.append((f.name, doc))
    return out


if __name__ == "__main__":  # pragma: no cover - maintainer tool
    root = Path(sys.argv[1])
    target = Path(__file__).parent / "data"
    print(build_snapshot(root, target))
