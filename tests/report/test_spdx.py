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


def test_tag_value_for_a_spdx_file_name_parses_and_validates(tmp_path: Path) -> None:
    """`-o sbom.spdx` gives tag-value (JSON stays for `.spdx.json` and stdout), read back by spdx-tools."""
    parse_anything = pytest.importorskip("spdx_tools.spdx.parser.parse_anything")
    validator = pytest.importorskip("spdx_tools.spdx.validation.document_validator")
    from shareguard.report.options import ReportOptions

    result = scan_result(tmp_path)
    text = SpdxReporter(ReportOptions(output_name="sbom.spdx")).render(result, load_catalog())
    assert text.startswith("SPDXVersion: SPDX-2.3\n")
    path = tmp_path / "sbom.spdx"
    path.write_text(text, encoding="utf-8")
    document = parse_anything.parse_file(str(path))
    assert validator.validate_full_spdx_document(document) == []
    from_json = json.loads(SpdxReporter(ReportOptions(output_name="sbom.spdx.json")).render(result, load_catalog()))
    assert {p.name for p in document.packages} == {p["name"] for p in from_json["packages"]}
    assert len(document.relationships) == len(from_json["relationships"])
    assert json.loads(SpdxReporter().render(result, load_catalog()))["spdxVersion"] == "SPDX-2.3"


def test_tag_value_keeps_hostile_values_inside_their_tag() -> None:
    from shareguard.report.spdx_tagvalue import tag_value

    doc = {
        "spdxVersion": "SPDX-2.3",
        "dataLicense": "CC0-1.0",
        "SPDXID": "SPDXRef-DOCUMENT",
        "name": "x\nRelationship: SPDXRef-DOCUMENT DESCRIBES SPDXRef-Evil",
        "documentNamespace": "https://spdx.org/spdxdocs/x",
        "creationInfo": {"created": "2026-01-01T00:00:00Z", "creators": ["Tool: shareguard"]},
        "packages": [
            {
                "SPDXID": "SPDXRef-p",
                "name": "evil\r\nPackageName: injected",
                "downloadLocation": "NOASSERTION",
                "comment": "ends early?</text>\nPackageName: injected",
            }
        ],
        "relationships": [],
    }
    text = tag_value(doc)
    assert "PackageName: evil\\r\\nPackageName: injected\n" in text
    assert "<text>ends early?</ text>\nPackageName: injected</text>" in text
    # Read back by the SPDX project's parser: one package, no relationship, the values whole.
    parser = pytest.importorskip("spdx_tools.spdx.parser.tagvalue.parser")
    parsed = parser.Parser().parse(text)
    assert [p.name for p in parsed.packages] == ["evil\\r\\nPackageName: injected"]
    assert parsed.relationships == []
    assert parsed.packages[0].comment == "ends early?</ text>\nPackageName: injected"


def test_document_name_holds_no_local_path() -> None:
    from shareguard.report.sbom_inventory import display_target

    assert display_target("/home/me/images/train.tar (train:1.0)") == "train.tar (train:1.0)"
    assert display_target("/srv/rootfs") == "rootfs"
    assert display_target("C:\\images\\x.tar") == "x.tar"
    assert display_target("registry.example.com/ml/train:1.0") == "registry.example.com/ml/train:1.0"
