"""SARIF 2.1.0 output validates against the official schema and carries what code scanning needs."""

from __future__ import annotations

import json
from typing import Any

import jsonschema
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from report.report_strategies import findings, result_of
from shareguard.catalog import Catalog
from shareguard.core.finding import Finding
from shareguard.core.result import ScanResult
from shareguard.report.sarif import FINGERPRINT_KEY, SRCROOT, SarifReporter


@pytest.fixture(scope="session")
def sarif_validator(sarif_schema: dict[str, Any]) -> jsonschema.protocols.Validator:
    """The official OASIS schema (committed in tests/data/schemas)."""
    cls = jsonschema.validators.validator_for(sarif_schema)
    return cls(sarif_schema)


def render(result: ScanResult, catalog: Catalog) -> dict[str, Any]:
    return json.loads(SarifReporter().render(result, catalog))


def test_example_workspace_sarif_validates(
    example_result: ScanResult, catalog: Catalog, sarif_validator: jsonschema.protocols.Validator
) -> None:
    doc = render(example_result, catalog)
    sarif_validator.validate(doc)
    assert doc["version"] == "2.1.0" and len(doc["runs"]) == 1


def test_full_result_validates(
    result: ScanResult, catalog: Catalog, sarif_validator: jsonschema.protocols.Validator
) -> None:
    sarif_validator.validate(render(result, catalog))


def test_rules_cover_every_result_with_help_and_security_severity(result: ScanResult, catalog: Catalog) -> None:
    run = render(result, catalog)["runs"][0]
    rules = run["tool"]["driver"]["rules"]
    ids = [r["id"] for r in rules]
    assert len(ids) == len(set(ids))
    for res in run["results"]:
        assert rules[res["ruleIndex"]]["id"] == res["ruleId"]
    for rule in rules:
        assert rule["help"]["text"] and rule["help"]["markdown"]
        assert float(rule["properties"]["security-severity"]) >= 0
        assert "security" in rule["properties"]["tags"]
    exp = next(r for r in rules if r["id"] == "DF-EXP-001")
    assert "Remove the experiment" in exp["help"]["text"]
    assert "DATAFLOW-C-04" in exp["properties"]["tags"]
    assert exp["properties"]["security-severity"] == "5.5"
    assert exp["helpUri"].startswith("https://")
    assert exp["relationships"][0]["target"]["id"] == "DATAFLOW-C-04"
    # A rule without registered metadata is described from its finding.
    vuln = next(r for r in rules if r["id"] == "VULN-PYSEC-2024-0001")
    assert vuln["properties"]["security-severity"] == "9.5"
    assert "Upgrade torch" in vuln["help"]["text"]


def _result(run: dict[str, Any], rule_id: str) -> dict[str, Any]:
    return next(r for r in run["results"] if r["ruleId"] == rule_id)


def test_levels_kinds_suppressions_and_fingerprints(result: ScanResult, catalog: Catalog) -> None:
    run = render(result, catalog)["runs"][0]
    assert _result(run, "VULN-PYSEC-2024-0001")["level"] == "error"
    assert _result(run, "TF-NET-002")["level"] == "error"
    assert _result(run, "DF-EXP-001")["level"] == "warning"
    waived = _result(run, "PII-CARD")
    assert waived["level"] == "note"
    assert waived["suppressions"] == [
        {"kind": "external", "status": "accepted", "justification": "synthetic fixture data (until 2027-06-30)"}
    ]
    passed = _result(run, "K8S-RO-ROOTFS")
    assert passed["kind"] == "pass" and passed["level"] == "none"
    for finding, res in zip(result.findings, run["results"], strict=True):
        assert res["partialFingerprints"][FINGERPRINT_KEY] == finding.fingerprint


def test_locations(result: ScanResult, catalog: Catalog) -> None:
    run = render(result, catalog)["runs"][0]
    assert run["originalUriBaseIds"][SRCROOT]["uri"].startswith("file:///")
    assert run["originalUriBaseIds"][SRCROOT]["uri"].endswith("/")
    tf = _result(run, "TF-NET-002")["locations"][0]
    assert tf["physicalLocation"]["artifactLocation"] == {"uri": "terraform/main.tf", "uriBaseId": SRCROOT}
    assert tf["physicalLocation"]["region"] == {"startLine": 50, "endLine": 52, "startColumn": 3}
    assert {"fullyQualifiedName": "ip_configuration", "kind": "member"} in tf["logicalLocations"]
    layer = _result(run, "VULN-PYSEC-2024-0001")["locations"][0]
    assert layer["properties"]["layer_digest"].startswith("sha256:")
    assert layer["properties"]["member"] == "METADATA"
    uri = _result(run, "PLUGIN-X")["locations"][0]["physicalLocation"]["artifactLocation"]
    assert uri == {"uri": "gs://example-bucket/a b.txt"}  # a URI is kept as the resource names it
    dataflow = _result(run, "DF-EXP-001")["locations"][0]
    assert "region" not in dataflow["physicalLocation"]  # no line known: no invented region


def test_issues_and_expired_waivers_are_notifications(result: ScanResult, catalog: Catalog) -> None:
    inv = render(result, catalog)["runs"][0]["invocations"][0]
    assert inv["executionSuccessful"] is False
    texts = [n["message"]["text"] for n in inv["toolExecutionNotifications"]]
    assert any("models/huge.pt" in t for t in texts)
    assert any("waiver expired on 2026-03-31" in t for t in texts)


def test_without_scan_root_paths_have_no_base(catalog: Catalog, result: ScanResult) -> None:
    bare = result_of(result.findings)
    run = render(bare, catalog)["runs"][0]
    assert "originalUriBaseIds" not in run
    loc = _result(run, "TF-NET-002")["locations"][0]["physicalLocation"]["artifactLocation"]
    assert "uriBaseId" not in loc


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(items=st.lists(findings, max_size=5), rooted=st.booleans())
def test_any_findings_give_valid_sarif(
    items: list[Finding], rooted: bool, catalog: Catalog, sarif_validator: jsonschema.protocols.Validator
) -> None:
    doc = render(result_of(items, "/tmp/ws" if rooted else None), catalog)
    sarif_validator.validate(doc)
    assert len(doc["runs"][0]["results"]) == len(items)
