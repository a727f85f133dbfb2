"""The OSV post analyzer end to end: findings, remediation, duties, --ignore-unfixed, VEX, database age."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest
from tests.vuln.osv_fixtures import advisory, write_advisories

from shareguard.core.context import ScanContext
from shareguard.core.engine import consume
from shareguard.core.facts import FactStore, ImageIdentity, OSInfo, Package
from shareguard.core.finding import Finding, SeveritySource, Status
from shareguard.core.options import OptionSet
from shareguard.core.settings import Settings
from shareguard.vuln.analyzer import APP_RULE, IMAGE_RULE, OsvMatcher
from shareguard.vuln.database import default_db_path
from shareguard.vuln.importer import import_path
from shareguard.vuln.options import VulnOptions
from shareguard.vuln.store import VulnStore

LAYER = "sha256:" + "ab" * 32


def _torch(version: str = "1.13.0+cu117", **kw: object) -> Package:
    return Package(
        name="torch",
        version=version,
        ecosystem="PyPI",
        path=f"opt/conda/lib/python3.10/site-packages/torch-{version}.dist-info/METADATA",
        layer=LAYER,
        origin="pip",
        **kw,  # type: ignore[arg-type]
    )


def _run(facts: list[object], command: str = "", **options: Any) -> tuple[list[Finding], ScanContext]:
    store = FactStore()
    for f in facts:
        store.add(f)  # type: ignore[arg-type]
    ctx = ScanContext(settings=Settings.from_env(), options=OptionSet((VulnOptions(**options),)), command=command)
    found: list[Finding] = []
    consume(OsvMatcher().analyze(store, ctx), found, ctx)  # as the engine files them (coverage included)
    return found, ctx


@pytest.fixture
def user_db(pypa_store_path: Path) -> Path:
    """The real PyPA database installed where a scan looks for it."""
    target = default_db_path(Settings.from_env())
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copy(pypa_store_path, target)
    return target


def test_finding_fields(user_db: Path) -> None:
    findings, ctx = _run([_torch()], command="image")
    (f,) = [x for x in findings if x.properties["vulnerability_id"] == "PYSEC-2022-43015"]
    assert f.rule_id == IMAGE_RULE and f.control_ids == ("DLC-C-02", "DLVM-C-02", "DATAFLOW-C-03")
    assert f.resource.type == "package" and f.resource.name == "torch" and f.resource.path.endswith("METADATA")
    assert f.location.layer_digest == LAYER
    assert f.properties["installed_version"] == "1.13.0+cu117"
    assert f.properties["fixed_version"] == "1.13.1" and f.properties["unfixed"] is False
    assert "CVE-2022-45907" in f.properties["aliases"]
    assert f.properties["purl"] == "pkg:pypi/torch@1.13.0%2Bcu117"
    assert f.remediation.command == "pip install 'torch>=1.13.1'"
    assert f.remediation.fixed_version == "1.13.1"
    assert f.severity_source is SeveritySource.DEFAULT  # PyPA records carry no rating
    assert ctx.metadata["vulnerability_db"]["stale"] is False
    assert {"DLC-C-02", "DLVM-C-02", "DATAFLOW-C-03"} <= set(ctx.coverage.duties)


def test_workspace_dependency_is_application_duty(user_db: Path) -> None:
    req = Package(name="pyyaml", version="5.3", ecosystem="PyPI", path="requirements.txt", origin="pip")
    findings, _ctx = _run([req], command="audit")
    assert findings and {f.rule_id for f in findings} == {APP_RULE}
    assert findings[0].control_ids == ("DLC-C-03", "DLVM-C-03", "DATAFLOW-C-08")
    # the same package in an image scan (an OS was found) is the image duty
    findings, _ = _run([req, OSInfo(id="debian", version_id="12")])
    assert {f.rule_id for f in findings} == {IMAGE_RULE}


def test_conda_installed_pypi_project_upgraded_with_conda(user_db: Path) -> None:
    pkg = _torch("1.13.0", extra=(("installer", "conda"), ("conda_package", "pytorch")))
    findings, _ = _run([pkg])
    assert findings[0].remediation.command == "conda install 'pytorch>=1.13.1'"


def _custom_db(tmp: Path, docs: list[dict[str, object]]) -> None:
    target = default_db_path(Settings.from_env())
    target.parent.mkdir(parents=True, exist_ok=True)
    with VulnStore(target, create=True) as store:
        import_path(store, write_advisories(tmp / "osv", docs))  # type: ignore[arg-type]


def test_debian_finding_and_ignore_unfixed(tmp_path: Path) -> None:
    fixed = advisory(
        "DSA-5000-1",
        "Debian:12",
        "openssl",
        [{"introduced": "0"}, {"fixed": "3.0.11-1~deb12u2"}],
        aliases=["CVE-2023-5678"],
        severity=[{"type": "CVSS_V3", "score": "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:N/A:H"}],
    )
    unfixed = advisory(
        "DEBIAN-CVE-2024-9",
        "Debian:12",
        "openssl",
        [{"introduced": "0"}],
        affected_extra={"ecosystem_specific": {"urgency": "unimportant"}},
    )
    _custom_db(tmp_path, [fixed, unfixed])
    libssl = Package(
        name="libssl3",
        version="3.0.11-1~deb12u1",
        ecosystem="Debian:12",
        path="var/lib/dpkg/status",
        layer=LAYER,
        source_name="openssl",
        source_version="3.0.11-1~deb12u1",
        os_managed=True,
    )
    findings, _ = _run([libssl, OSInfo(id="debian", version_id="12")], command="rootfs")
    by_id = {f.properties["vulnerability_id"]: f for f in findings}
    dsa = by_id["DSA-5000-1"]
    assert dsa.remediation.command == "apt-get update && apt-get install --only-upgrade libssl3"
    assert (dsa.severity.value, dsa.severity_source, dsa.properties["cvss_score"]) == (
        "high",
        SeveritySource.CVSS_V3,
        7.5,
    )
    low = by_id["DEBIAN-CVE-2024-9"]
    assert low.properties["unfixed"] is True and low.remediation.command is None
    assert (low.severity.value, low.severity_source) == ("low", SeveritySource.VENDOR)
    findings, _ = _run([libssl], command="rootfs", ignore_unfixed=True)
    assert [f.properties["vulnerability_id"] for f in findings] == ["DSA-5000-1"]


def test_vex_waives_with_justification(user_db: Path, tmp_path: Path) -> None:
    vex = tmp_path / "vex.json"
    vex.write_text(
        json.dumps(
            {
                "@context": "https://openvex.dev/ns/v0.2.0",
                "@id": "https://example.com/vex/1",
                "author": "platform",
                "timestamp": "2024-06-01T00:00:00Z",
                "version": 1,
                "statements": [
                    {
                        "vulnerability": {"name": "CVE-2022-45907"},
                        "products": [{"@id": "pkg:oci/trainer", "subcomponents": [{"@id": "pkg:pypi/torch"}]}],
                        "status": "not_affected",
                        "justification": "vulnerable_code_not_in_execute_path",
                    }
                ],
            }
        ),
        encoding="utf-8",
    )
    findings, ctx = _run([_torch(), ImageIdentity(reference="trainer:1")], vex=vex)
    (f,) = [x for x in findings if x.properties["vulnerability_id"] == "PYSEC-2022-43015"]
    assert f.status is Status.WAIVED and f.waiver == "VEX: vulnerable_code_not_in_execute_path"
    assert f.properties["vex"]["justification"] == "vulnerable_code_not_in_execute_path"
    assert not ctx.issues


def test_bad_vex_is_an_error_not_a_crash(user_db: Path, tmp_path: Path) -> None:
    bad = tmp_path / "vex.json"
    bad.write_text("[]", encoding="utf-8")
    findings, ctx = _run([_torch()], vex=bad)
    assert findings and all(f.status is Status.FAIL for f in findings)
    assert [i.kind for i in ctx.issues] == ["error"]


def test_bundled_snapshot_is_the_offline_default() -> None:
    assert not default_db_path(Settings.from_env()).exists()
    findings, ctx = _run([_torch("1.13.0")])
    assert "PYSEC-2022-43015" in {f.properties["vulnerability_id"] for f in findings}
    meta = ctx.metadata["vulnerability_db"]
    assert meta["bundled_snapshot_only"] and meta["stale"] and meta["updated"].startswith("2024-10-10")
    (warning,) = [i for i in ctx.issues if i.kind == "warning"]
    assert "bundled snapshot" in warning.message and "shareguard db update" in warning.message


def test_unwritable_cache_is_one_error(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    blocker = tmp_path / "not-a-dir"
    blocker.write_text("a file where the cache directory should be", encoding="utf-8")
    monkeypatch.setenv("SHAREGUARD_CACHE_DIR", str(blocker))
    from shareguard.core.errors import DatabaseError

    with pytest.raises(DatabaseError, match="cannot create the vulnerability database"):
        _run([_torch()])
