"""`audit` reads audit logs in a workspace through the one analyzer model and reports incidents per duty."""

from __future__ import annotations

import gzip
import json
import shutil
from pathlib import Path

from tests.logs.helpers import cloudtrail

from shareguard.catalog import load_catalog
from shareguard.core.finding import Finding, Status
from shareguard.logs.detect import builtin_rules
from shareguard.logs.events import LogKind
from shareguard.report.rollup import rollup
from shareguard.scan import run_path_scan

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "ml-platform"


def _logs(result_findings: list[Finding]) -> list[Finding]:
    return [f for f in result_findings if f.analyzer == "logs.sigma"]


def test_example_cloudtrail_incident_under_the_monitoring_duty(tmp_path: Path) -> None:
    ws = tmp_path / "ws"
    shutil.copytree(EXAMPLE / "logs", ws / "logs")
    result = run_path_scan(ws, capabilities=frozenset({"logs"}))
    found = _logs(result.findings)
    assert {f.rule_id for f in found} == {"LOGS-AWS-001", "LOGS-AWS-006", "LOGS-AWS-010"}
    assert len({f.properties["incident"] for f in found}) == 1  # one principal, one sequence: one incident
    assert all("LOGGING-C-02" in f.control_ids for f in found)
    assert all(f.resource.path == "logs/cloudtrail.json" for f in found)
    evidence = result.coverage.of("LOGGING-C-02")
    assert evidence is not None and "logs/cloudtrail.json#cloudtrail" in evidence.resources
    # every built-in CloudTrail rule that ran counts as evaluated there
    assert evidence.rules == {info.id for info in builtin_rules().infos_of(LogKind.CLOUDTRAIL)}


def test_clean_log_passes_monitoring_and_bad_lines_leave_it_incomplete(tmp_path: Path) -> None:
    ws = tmp_path / "ws"
    ws.mkdir()
    quiet = cloudtrail("DescribeInstances", "ec2.amazonaws.com")
    (ws / "trail.json.gz").write_bytes(gzip.compress(json.dumps({"Records": [quiet]}).encode()))
    result = run_path_scan(ws, capabilities=frozenset({"logs"}))
    assert _logs(result.findings) == []
    verdicts = {d.control.id: d for d in rollup(result, load_catalog()).duties()}
    assert verdicts["LOGGING-C-02"].status.value == "pass"

    (ws / "more.jsonl").write_text(json.dumps(quiet) + "\n{broken\n")
    result = run_path_scan(ws, capabilities=frozenset({"logs"}))
    verdicts = {d.control.id: d for d in rollup(result, load_catalog()).duties()}
    assert verdicts["LOGGING-C-02"].status.value == "incomplete"
    assert any("more.jsonl:line 2" in i.path for i in result.issues)


def test_findings_fail_and_are_masked() -> None:
    result = run_path_scan(EXAMPLE / "logs", capabilities=frozenset({"logs"}))
    for f in _logs(result.findings):
        assert f.status is Status.FAIL
        assert "AKIA" not in json.dumps(f.properties)
