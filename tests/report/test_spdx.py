"""SPDX 2.3 JSON SBOM: parsed and validated with spdx-tools (the SPDX project's own library)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from tests.report.sbom_fixtures import scan_result

from shareguard.catalog import load_catalog
from shareguard.core.registry import load_registries
from shareguard.report.interface import Reporter
from shareguard.report.spdx import SpdxReporter


def _render(tmp_path: Path) -> str:
    return SpdxReporter().render(scan_result(tmp_path), load_catalog())


def test_valid_spdx_23(tmp_path: Path) -> None:
    parse_anything = pytest.importorskip("spdx_tools.spdx.parser.parse_anything")
    validator = pytest.importorskip("spdx_tools.spdx.validation.document_validator")
    path = tmp_path / "sbom.spdx.json"
    path.write_text(_render(tmp_path), encoding="utf-8")
    document = parse_anything.parse_file(str(path))
    messages = validator.validate_full_spdx_document(document)
    assert messages == [], [m.validation_message for m in messages]
    names = {p.name for p in document.packages}
    assert {"torch", "libssl3", "pyyaml", "debian", "registry.example.com/ml/trainer:1.0"} <= names


def test_packages_purls_licenses_relationships(tmp_path: Path) -> None:
    doc = json.loads(_render(tmp_path))
    assert doc["spdxVersion"] == "SPDX-2.3" and doc["dataLicense"] == "CC0-1.0"
    assert doc["creationInfo"]["created"] == "2026-01-02T03:04:05Z"
    pkgs = {p["name"]: p for p in doc["packages"]}
    torch = pkgs["torch"]
    assert torch["externalRefs"] == [
        {
            "referenceCategory": "PACKAGE-MANAGER",
            "referenceType": "purl",
            "referenceLocator": "pkg:pypi/torch@1.13.0%2Bcu117",
        }
    ]
    assert torch["licenseDeclared"] == "BSD-3-Clause"
    assert pkgs["pyyaml"]["licenseDeclared"] == "NOASSERTION" and "MIT License" in pkgs["pyyaml"]["licenseComments"]
    assert pkgs["debian"]["primaryPackagePurpose"] == "OPERATING-SYSTEM"
    assert pkgs["registry.example.com/ml/trainer:1.0"]["primaryPackagePurpose"] == "CONTAINER"
    contains = {r["relatedSpdxElement"] for r in doc["relationships"] if r["relationshipType"] == "CONTAINS"}
    assert torch["SPDXID"] in contains
    assert len({p["SPDXID"] for p in doc["packages"]}) == len(doc["packages"])


def test_deterministic_namespace(tmp_path: Path) -> None:
    assert _render(tmp_path) == _render(tmp_path)


def test_registered_only_for_image_and_rootfs() -> None:
    reporter = load_registries().of(Reporter).get("spdx")  # type: ignore[type-abstract]
    assert reporter.commands == frozenset({"image", "rootfs"})
