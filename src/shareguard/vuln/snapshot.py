"""The bundled snapshot: a small OSV all.zip of PyPA advisories for the key ML packages, shipped
inside the package as the offline default (imported into the cache on first use).

Rebuild it (maintainers) with:
    python -m shareguard.vuln.snapshot PATH/TO/pypa-advisory-database
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
import zipfile
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from shareguard.core.errors import DatabaseError
from shareguard.vuln.importer import import_path
from shareguard.vuln.osv import load_document
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


@dataclass(frozen=True)
class SnapshotInfo:
    date: str
    """Date of the advisory data (the upstream commit's date), ISO 8601."""
    source: str
    commit: str
    license: str
    advisories: int


def snapshot_info() -> SnapshotInfo:
    meta = json.loads(resources.files("shareguard.vuln.data").joinpath(SNAPSHOT_META).read_text(encoding="utf-8"))
    return SnapshotInfo(meta["date"], meta["source"], meta["commit"], meta["license"], int(meta["advisories"]))


def install_snapshot(db_path: Path) -> SnapshotInfo:
    """Create `db_path` from the bundled snapshot (atomically: concurrent scans see all or nothing)."""
    info = snapshot_info()
    db_path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".vuln.", suffix=".sqlite", dir=db_path.parent)
    os.close(fd)
    tmp_path = Path(tmp)
    tmp_path.unlink()
    try:
        label = f"bundled snapshot: {info.source} @ {info.commit[:12]} ({info.license})"
        zip_ref = resources.files("shareguard.vuln.data").joinpath(SNAPSHOT_ZIP)
        with resources.as_file(zip_ref) as zpath, VulnStore(tmp_path, create=True) as store:
            report = import_path(store, zpath, label=label, imported_at=info.date)
        if report.rejected:
            raise DatabaseError(
                f"bundled snapshot is damaged: {report.rejected[0].message}", path=report.rejected[0].path
            )
        os.replace(tmp_path, db_path)
    finally:
        tmp_path.unlink(missing_ok=True)
    return info


def build_snapshot(pypa_root: Path, out_dir: Path, packages: tuple[str, ...] = SNAPSHOT_PACKAGES) -> SnapshotInfo:
    """Write `snapshot.zip` (OSV JSON, one file per advisory, plus the CC-BY-4.0 LICENSE) and `snapshot.json`."""
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
        zf.writestr("LICENSE", (pypa_root / "LICENSE").read_text(encoding="utf-8"))
    meta = {
        "date": date,
        "source": "PyPA advisory database (https://github.com/pypa/advisory-database)",
        "commit": commit,
        "license": "CC-BY-4.0",
        "attribution": "Advisories from the Python Packaging Authority advisory database, licensed CC-BY-4.0; "
        "converted from YAML to JSON and limited to the packages listed in `packages`, otherwise unchanged.",
        "advisories": count,
        "packages": list(packages),
    }
    (out_dir / SNAPSHOT_META).write_text(json.dumps(meta, indent=2) + "\n", encoding="utf-8")
    return SnapshotInfo(date, str(meta["source"]), commit, "CC-BY-4.0", count)


if __name__ == "__main__":  # pragma: no cover - maintainer tool
    root = Path(sys.argv[1])
    target = Path(__file__).parent / "data"
    print(build_snapshot(root, target))
