"""One vulnerability path: a pin in requirements.txt (`audit`) and the same version installed in an image
(`image`) are matched by the one OSV matcher against the same advisories, each reported once, records of
one vulnerability (PYSEC and GHSA, shareguard's copy and the upstream one) folded by id and aliases."""

from __future__ import annotations

import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "sources"))

from imagebuild import file, make_layer, write_oci_layout

from shareguard.core.context import ScanContext
from shareguard.core.finding import Finding
from shareguard.core.registry import load_registries
from shareguard.core.result import ScanResult
from shareguard.core.settings import Settings
from shareguard.image.scan import scan_image
from shareguard.scan import run_path_scan
from shareguard.sources.image.open import open_image_path
from shareguard.vuln.database import default_db_path
from shareguard.vuln.importer import import_path
from shareguard.vuln.store import VulnStore

TORCH_LOAD_CVES = {"GHSA-53q9-r3pm-6pq6": "CVE-2025-32434", "GHSA-63cw-57p8-fm3p": "CVE-2026-24747"}


def _audit(tmp_path: Path, cache: Path) -> ScanResult:
    ws = tmp_path / "ws"
    ws.mkdir()
    (ws / "requirements.txt").write_text("numpy>=1.26\ntorch==2.2.0\n")
    return run_path_scan(ws, command="audit", settings=Settings(cache_dir=cache))


def _image(tmp_path: Path, cache: Path) -> ScanResult:
    meta = b"Metadata-Version: 2.1\nName: torch\nVersion: 2.2.0\n\n"
    layer = make_layer([file("usr/local/lib/python3.11/site-packages/torch-2.2.0.dist-info/METADATA", meta)])
    write_oci_layout(tmp_path / "oci", [layer])
    ctx = ScanContext(settings=Settings(cache_dir=cache))
    return scan_image(open_image_path(tmp_path / "oci", "linux/amd64"), load_registries(), ctx, use_cache=False)


def _torch(result: ScanResult) -> list[Finding]:
    return [f for f in result.findings if f.properties.get("vulnerability_id") and f.resource.name == "torch"]


def _advisories(findings: list[Finding]) -> list[tuple[str, tuple[str, ...]]]:
    return sorted((f.properties["vulnerability_id"], tuple(sorted(f.properties["aliases"]))) for f in findings)


def test_audit_and_image_report_the_same_torch_advisories_once(tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    audit = _torch(_audit(tmp_path, cache))
    image = _torch(_image(tmp_path, cache))
    assert _advisories(audit) == _advisories(image)
    ids = [f.properties["vulnerability_id"] for f in audit]
    assert len(ids) == len(set(ids))
    assert {i: a for i, a in _advisories(audit)} == {k: (v,) for k, v in TORCH_LOAD_CVES.items()}
    assert {f.rule_id for f in audit} == {"VULN-APP-DEPENDENCY"} and {f.rule_id for f in image} == {
        "VULN-IMAGE-PACKAGE"
    }
    [crit] = [f for f in image if f.properties["vulnerability_id"] == "GHSA-53q9-r3pm-6pq6"]
    assert crit.severity.value == "critical" and crit.properties["fixed_version"] == "2.6.0"
    assert not [f for f in audit if f.rule_id == "MLCODE-011"]


def test_records_of_one_vulnerability_are_one_finding(tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    (tmp_path / "first").mkdir()
    _audit(tmp_path / "first", cache)  # seeds the database
    # PyPA's record of the same CVE (a PYSEC id naming the GHSA and the CVE), with a later fix, and a
    # record reached only through an alias chain (it names the PYSEC id, not the CVE).
    pysec = {
        "id": "PYSEC-2025-41",
        "modified": "2025-05-01T00:00:00Z",
        "aliases": ["CVE-2025-32434", "GHSA-53q9-r3pm-6pq6"],
        "affected": [
            {
                "package": {"ecosystem": "PyPI", "name": "torch"},
                "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "0"}, {"fixed": "2.6.1"}]}],
            }
        ],
    }
    chained = {
        "id": "OTHER-1",
        "modified": "2025-05-01T00:00:00Z",
        "aliases": ["PYSEC-2025-41"],
        "affected": pysec["affected"],
    }
    src = tmp_path / "extra.json"
    src.write_text(json.dumps([pysec, chained]))
    with VulnStore(default_db_path(Settings(cache_dir=cache))) as store:
        report = import_path(store, src)
    assert report.imported == 2 and not report.rejected
    findings = _torch(_audit(tmp_path, cache))
    ids = sorted(f.properties["vulnerability_id"] for f in findings)
    assert ids == ["GHSA-53q9-r3pm-6pq6", "GHSA-63cw-57p8-fm3p"]  # the rated GHSA record is the one named
    [one] = [f for f in findings if f.properties["vulnerability_id"] == "GHSA-53q9-r3pm-6pq6"]
    assert set(one.properties["aliases"]) == {"CVE-2025-32434", "PYSEC-2025-41", "OTHER-1"}
    assert one.properties["fixed_version"] == "2.6.1"  # the highest fix any of the records names
