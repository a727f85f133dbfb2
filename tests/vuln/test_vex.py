"""OpenVEX parsing and statement selection."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from shareguard.core.errors import InputError
from shareguard.vuln.vex import load_vex, parse_vex


def _doc(*statements: dict[str, Any]) -> dict[str, Any]:
    return {
        "@context": "https://openvex.dev/ns/v0.2.0",
        "@id": "https://example.com/vex/2024-001",
        "author": "ML platform team",
        "timestamp": "2024-06-01T00:00:00Z",
        "version": 1,
        "statements": list(statements),
    }


NOT_AFFECTED = {
    "vulnerability": {"name": "CVE-2022-45907", "aliases": ["PYSEC-2022-43015"]},
    "products": [{"@id": "pkg:pypi/torch"}],
    "status": "not_affected",
    "justification": "vulnerable_code_not_in_execute_path",
    "impact_statement": "torch.jit annotations are never parsed from user input",
}


def test_not_affected_matches_versionless_purl_and_alias() -> None:
    vex = parse_vex(_doc(NOT_AFFECTED), "vex.json")
    st = vex.decide({"PYSEC-2022-43015"}, "pkg:pypi/torch@1.13.0%2Bcu117")
    assert st is not None and st.status == "not_affected" and st.justification == "vulnerable_code_not_in_execute_path"
    assert vex.decide({"PYSEC-2022-43015"}, "pkg:pypi/numpy@1.0") is None
    assert vex.decide({"CVE-2099-1"}, "pkg:pypi/torch@1.13.0") is None


def test_versioned_product_and_qualifiers() -> None:
    st = dict(NOT_AFFECTED, products=[{"@id": "pkg:deb/debian/libssl3@3.0.11-1~deb12u1?arch=amd64"}])
    vex = parse_vex(_doc(st), "v")
    assert vex.decide({"CVE-2022-45907"}, "pkg:deb/debian/libssl3@3.0.11-1~deb12u1?arch=amd64&distro=debian-12")
    assert vex.decide({"CVE-2022-45907"}, "pkg:deb/debian/libssl3@3.0.11-1~deb12u2?arch=amd64") is None
    assert vex.decide({"CVE-2022-45907"}, "pkg:deb/debian/libssl3@3.0.11-1~deb12u1?arch=arm64") is None


def test_image_product_with_subcomponents_and_whole_image() -> None:
    sub = dict(
        NOT_AFFECTED, products=[{"@id": "pkg:oci/trainer@sha256%3Aabc", "subcomponents": [{"@id": "pkg:pypi/torch"}]}]
    )
    vex = parse_vex(_doc(sub), "v")
    assert vex.decide({"CVE-2022-45907"}, "pkg:pypi/torch@1.13.0")
    assert vex.decide({"CVE-2022-45907"}, "pkg:pypi/numpy@1.0") is None
    whole = dict(NOT_AFFECTED, products=[{"@id": "pkg:oci/trainer@sha256%3Aabc"}])
    assert parse_vex(_doc(whole), "v").decide({"CVE-2022-45907"}, "pkg:pypi/anything@1")


def test_latest_statement_wins() -> None:
    later = {
        "vulnerability": {"name": "CVE-2022-45907"},
        "products": [{"@id": "pkg:pypi/torch"}],
        "status": "affected",
        "action_statement": "upgrade",
        "timestamp": "2024-07-01T00:00:00Z",
    }
    vex = parse_vex(_doc(NOT_AFFECTED, later), "v")
    st = vex.decide({"CVE-2022-45907"}, "pkg:pypi/torch@1.13.0")
    assert st is not None and st.status == "affected"


def test_legacy_v001_shape() -> None:
    doc = {
        "@context": "https://openvex.dev/ns",
        "statements": [
            {
                "vulnerability": "CVE-2022-45907",
                "products": ["pkg:pypi/torch@1.13.0"],
                "status": "not_affected",
                "justification": "component_not_present",
            }
        ],
    }
    assert parse_vex(doc, "v").decide({"CVE-2022-45907"}, "pkg:pypi/torch@1.13.0")


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("{not json", "not valid JSON"),
        (json.dumps({"statements": "x"}), "not an OpenVEX document"),
        (json.dumps(_doc({"products": [], "status": "not_affected", "justification": "x"})), "names no vulnerability"),
        (json.dumps(_doc({"vulnerability": {"name": "CVE-1"}, "status": "maybe"})), "unknown status"),
        (json.dumps(_doc({"vulnerability": {"name": "CVE-1"}, "status": "not_affected"})), "needs a justification"),
        (json.dumps({"@context": "https://cyclonedx.org", "statements": []}), "unsupported VEX"),
    ],
)
def test_malformed_vex_one_line_errors(tmp_path: Path, content: str, message: str) -> None:
    path = tmp_path / "vex.json"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(InputError, match=message) as info:
        load_vex(path)
    assert "\n" not in info.value.one_line()
