"""`audit` reads audit logs in a workspace through the one analyzer model and reports incidents per duty."""

from __future__ import annotations

import gzip
import json
import shutil
from pathlib import Path

from tests.logs.helpers import cloudtrail

from shareguard.catalog import load_catalog
from shareguard.core.finding import Finding, Status
from shareguard.logs.detect import builtin_rules, default_rules
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
    builtin = {"LOGS-AWS-001", "LOGS-AWS-006", "LOGS-AWS-010"}
    # SigmaHQ's bundled rules fire too: console login without MFA and "CloudTrail important change" on
    # the same principal's events, and the broad "AssumeRole misuse" (low) on the SageMaker training role
    sigmahq = {"sigma:77caf516-34e5-4df9-b4db-20744fea0a60", "sigma:4db60cc0-36fb-42b7-9b58-a5b53019fb74"}
    signal = "sigma:905d389b-b853-46d0-9d3d-dea0d3a3cd49"
    assert {f.rule_id for f in found} == builtin | sigmahq | {signal}
    incident = [f for f in found if f.rule_id != signal]
    assert len({f.properties["incident"] for f in incident}) == 1  # one principal, one sequence: one incident
    low = next(f for f in found if f.rule_id == signal)  # a low alert alone opens no incident; still a finding
    assert low.properties["incident"] is None and "no incident" in low.title
    assert all("LOGGING-C-02" in f.control_ids for f in found)
    assert all("Detection Rule License" in (f.description or "") for f in found if f.rule_id.startswith("sigma:"))
    assert all(f.resource.path == "logs/cloudtrail.json" for f in found)
    evidence = result.coverage.of("LOGGING-C-02")
    assert evidence is not None and "logs/cloudtrail.json#cloudtrail" in evidence.resources
    # every built-in and SigmaHQ CloudTrail rule that ran counts as evaluated there
    assert evidence.rules == {info.id for info in default_rules().infos_of(LogKind.CLOUDTRAIL)}
    assert len(evidence.rules) > len(list(builtin_rules().infos_of(LogKind.CLOUDTRAIL))) + 50


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
