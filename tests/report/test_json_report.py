"""The JSON report validates against the shipped schema, on real and synthetic results."""

from __future__ import annotations

import json
import re
from pathlib import Path

import jsonschema
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from report.report_strategies import findings, result_of
from shareguard.catalog import Catalog
from shareguard.core.finding import Finding, Remediation, Status
from shareguard.core.resource import Resource
from shareguard.core.result import ScanResult
from shareguard.core.severity import Severity
from shareguard.report.json_report import SCHEMA_VERSION, JsonReporter, report_schema

DOCS = Path(__file__).resolve().parents[2] / "docs" / "reports.md"


def validator() -> jsonschema.protocols.Validator:
    schema = report_schema()
    jsonschema.Draft202012Validator.check_schema(schema)
    return jsonschema.Draft202012Validator(schema, format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER)


def render(result: ScanResult, catalog: Catalog) -> dict:
    return json.loads(JsonReporter().render(result, catalog))


def test_example_workspace_report_validates(example_result: ScanResult, catalog: Catalog) -> None:
    doc = render(example_result, catalog)
    validator().validate(doc)
    assert doc["schema_version"] == SCHEMA_VERSION
    # Every duty of the catalog is in the report, each with a verdict.
    assert {c["id"] for c in doc["controls"]} == set(catalog.controls)
    assert doc["expired_waivers"], "the example's expired waiver must be reported"


def test_full_result_validates_and_keeps_every_field(result: ScanResult, catalog: Catalog) -> None:
    doc = render(result, catalog)
    validator().validate(doc)
    by_rule = {f["rule_id"]: f for f in doc["findings"]}
    vuln = by_rule["VULN-PYSEC-2024-0001"]
    assert vuln["location"]["layer_digest"].startswith("sha256:")
    assert vuln["remediation"] == {
        "text": "Upgrade torch",
        "fixed_version": "2.6.0",
        "command": "pip install 'torch>=2.6.0'",
    }
    assert vuln["severity_source"] == "cvss_v3"
    waived = by_rule["PII-CARD"]
    assert waived["status"] == "waived" and waived["waiver"].startswith("synthetic")
    assert doc["summary"]["findings"] == {"fail": 4, "pass": 1, "waived": 1}
    assert doc["summary"]["by_severity"] == {
        "critical": 1,
        "high": 1,
        "medium": 1,
        "low": 0,
        "unknown": 0,
        "info": 1,
    }
    assert doc["issues"][0]["kind"] == "error" and doc["issues"][1]["kind"] == "warning"
    assert doc["metadata"]["vuln_db"] == "2026-11-20"


def test_controls_roll_up(result: ScanResult, catalog: Catalog) -> None:
    controls = {c["id"]: c for c in render(result, catalog)["controls"]}
    assert controls["DATAFLOW-C-04"]["status"] == "fail"
    assert controls["DATAFLOW-C-01"]["status"] == "pass"  # evaluated, nothing found
    assert controls["DATAFLOW-C-01"]["evaluated"] == {"resources": 1, "rules": 1}
    assert controls["DATAFLOW-C-05"]["status"] == "not_assessed" and controls["DATAFLOW-C-05"]["reason"]
    assert controls["STORAGE-C-03"]["status"] == "accepted"  # its only finding is waived
    assert controls["STORAGE-C-03"]["counts"] == {"fail": 0, "pass": 0, "waived": 1}
    assert controls["DATAFLOW-P-01"] | {"status": "not_assessed", "owner": "provider"} == controls["DATAFLOW-P-01"]


def test_schema_version_matches_schema_const() -> None:
    assert report_schema()["properties"]["schema_version"]["const"] == SCHEMA_VERSION


def test_non_json_properties_still_give_valid_json(catalog: Catalog) -> None:
    f = Finding(
        rule_id="R",
        control_ids=("IAM-C-02",),
        severity=Severity.LOW,
        title="t",
        resource=Resource(type="file", path="p"),
        remediation=Remediation(text="x"),
        properties={"nan": float("nan"), "set": {"b", "a"}, "obj": object, "tuple": (1, 2)},
    )
    text = JsonReporter().render(result_of([f]), catalog)
    doc = json.loads(text)
    validator().validate(doc)
    assert doc["findings"][0]["properties"]["nan"] is None
    assert doc["findings"][0]["properties"]["set"] == ["a", "b"]


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(items=st.lists(findings, max_size=6))
def test_any_findings_validate(items: list[Finding], catalog: Catalog) -> None:
    doc = render(result_of(items), catalog)
    validator().validate(doc)
    assert [f["fingerprint"] for f in doc["findings"]] == [f.fingerprint for f in items]
    assert [f["evidence"] for f in doc["findings"]] == [f.evidence for f in items]
    failing = sum(1 for f in items if f.status is Status.FAIL)
    assert sum(doc["summary"]["by_severity"].values()) == failing


def _schema_fields(schema: dict) -> set[str]:
    fields = set(schema["properties"])
    for name in ("finding", "control", "issue", "expiredWaiver"):
        fields |= set(schema["$defs"][name]["properties"])
    return fields


def test_docs_describe_every_schema_field() -> None:
    text = DOCS.read_text(encoding="utf-8")
    documented = set(re.findall(r"`([a-z_]+)`", text))
    missing = _schema_fields(report_schema()) - documented
    assert not missing, f"docs/reports.md does not describe: {sorted(missing)}"
    assert SCHEMA_VERSION in text


def test_list_packages_adds_the_inventory(image_result: ScanResult, catalog: Catalog) -> None:
    from shareguard.report.options import ReportOptions

    plain = json.loads(JsonReporter().render(image_result, catalog))
    assert "packages" not in plain
    doc = json.loads(JsonReporter(ReportOptions(list_packages=True)).render(image_result, catalog))
    jsonschema.Draft202012Validator(report_schema()).validate(doc)
    assert doc["schema_version"] == "2.1.0"
    assert len(doc["packages"]) == 32
    torch = next(p for p in doc["packages"] if p["name"] == "torch")
    assert torch["ecosystem"] == "PyPI" and torch["origin"] == "pip" and torch["layer"].startswith("sha256:bbbb")
    assert torch["purl"].startswith("pkg:pypi/torch@2.4.0")
    assert torch["ml"] == {"accelerator": "cuda", "cuda": "12.1", "cudnn": "8.9.2"}
    assert doc["ml_stack"]["cuda"][0]["version"] == "12.1.105"
