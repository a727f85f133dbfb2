"""The table report: summary first, each failing finding once under its most severe duty, fix commands
whole, not-assessed duties collapsed, plain without a terminal, user content printed literally."""

from __future__ import annotations

import re
from dataclasses import replace

import pytest

from shareguard.catalog import Catalog
from shareguard.core.finding import Finding, Remediation, Status
from shareguard.core.resource import Location, Resource
from shareguard.core.result import ScanResult
from shareguard.core.severity import Severity
from shareguard.report.options import GROUP_BY_CHOICES, ReportOptions
from shareguard.report.rollup import DutyStatus, rollup
from shareguard.report.table import INDENT, PLAIN_WIDTH, TableReporter, layout_report

ANSI = re.compile(r"\x1b\[")


def _plain(result: ScanResult, catalog: Catalog, width: int = PLAIN_WIDTH, **options: object) -> str:
    return layout_report(result, catalog, width, ReportOptions(**options)).plain()  # type: ignore[arg-type]


def _failing(result: ScanResult) -> list[Finding]:
    return [f for f in result.shown() if f.status is not Status.PASS]


def test_summary_comes_first(result: ScanResult, catalog: Catalog) -> None:
    text = TableReporter().render(result, catalog)
    lines = text.splitlines()
    assert lines[0] == "shareguard audit examples/ml-platform"
    head = "\n".join(lines[:8])
    assert re.search(r"^Duties\s+\d+ customer duties: 4 fail, 1 accepted, 0 incomplete, 3 pass", head, re.M)
    assert re.search(r"^Findings\s+4 failing findings: 1 critical, 1 high, 1 medium, 1 info · 1 waived", head, re.M)
    assert re.search(r"^Issues\s+1 input could not be scanned · 1 warning · 1 expired waiver", head, re.M)
    assert re.search(r"^Scanned\s+posture: 1 input evaluated, 1 skipped", head, re.M)
    assert text.index("Findings ") < text.index("── Failing findings")


def test_each_finding_once_under_its_most_severe_duty(result: ScanResult, catalog: Catalog) -> None:
    text = TableReporter().render(result, catalog)
    body = text[text.index("── Failing findings") :]
    # TF-NET-002 (high) names DATAFLOW-C-06 and NETWORK-C-03: listed once, under the first, naming the other.
    assert body.count("TF-NET-002") == 1
    section = re.search(r"^FAIL DATAFLOW-C-06 .*\n(.*\n)*?  HIGH TF-NET-002 .*", body, re.M)
    assert section is not None and "[also NETWORK-C-03]" in body
    # The critical finding's duty comes first.
    assert body.index("DLC-C-02") < body.index("DATAFLOW-C-06") < body.index("DATAFLOW-C-04")
    assert "terraform/main.tf:50" in body
    assert "$ pip install 'torch>=2.6.0'" in body
    assert "waived: synthetic fixture data" in body
    assert "ACME-C-01" in body  # a plugin's own duty is still shown
    assert "models/huge.pt" in text and "expired on 2026-03-31" in text


def test_not_assessed_duties_collapse_to_one_line_per_service(result: ScanResult, catalog: Catalog) -> None:
    roll = rollup(result, catalog)
    services = [s for s in roll.services if any(d.status is DutyStatus.NOT_ASSESSED for d in s.customer)]
    duties = [d for s in services for d in s.customer if d.status is DutyStatus.NOT_ASSESSED]
    collapsed = _plain(result, catalog)
    assert len(re.findall(r"^NOT ASSESSED ", collapsed, re.M)) == len(services)
    full = _plain(result, catalog, show_all=True)
    assert len(re.findall(r"^NOT ASSESSED ", full, re.M)) == len(duties)
    assert re.search(r"^PASS\s+DATAFLOW-C-01  .* — 1 resource, 1 rule", full, re.M)
    assert re.search(r"^provider\s+Google Cloud Dataflow .*: DATAFLOW-P-01, DATAFLOW-P-02", full, re.M)
    assert "fix: Remove the experiment" in full and "fix: Remove the experiment" not in collapsed
    # An accepted duty keeps a line of its own (every failure waived: never a pass).
    assert re.search(r"^ACCEPTED\s+STORAGE-C-03  .* 1 accepted", collapsed, re.M)


def _long_command_result(result: ScanResult) -> ScanResult:
    command = "gcloud dataflow flex-template run JOB " + " ".join(f"--parameter-{i}=value-{i}" for i in range(12))
    f = result.findings[1]
    changed = f.model_copy(update={"remediation": f.remediation.model_copy(update={"command": command})})
    return replace(result, findings=[changed, *result.findings[2:]])


@pytest.mark.parametrize("width", [80, 120])
def test_width_aware_and_commands_never_broken(result: ScanResult, catalog: Catalog, width: int) -> None:
    res = _long_command_result(result)
    text = _plain(res, catalog, width)
    for f in _failing(res):
        if f.status is Status.FAIL and f.remediation.command:
            assert f"{INDENT}$ {f.remediation.command}\n" in text
    for line in text.splitlines():
        # Only a command, or a single word (path, id) that does not fit, runs past the width.
        if len(line) > width:
            assert line.startswith(f"{INDENT}$ ") or max(len(w) for w in line.split()) > width // 3, line


def test_plain_output_has_no_escape_codes(result: ScanResult, catalog: Catalog) -> None:
    text = TableReporter().render(result, catalog)
    assert not ANSI.search(text)
    assert all(line == line.rstrip() for line in text.splitlines())


def test_terminal_output_is_coloured(result: ScanResult, catalog: Catalog) -> None:
    assert ANSI.search(TableReporter().render_terminal(result, catalog, 100))


def test_user_content_is_not_rich_markup(result: ScanResult, catalog: Catalog) -> None:
    text = TableReporter().render_terminal(result, catalog, 120)
    assert "[bold]markup[/bold]" in text


def test_long_titles_shortened_at_a_word_boundary(result: ScanResult, catalog: Catalog) -> None:
    words = " ".join(f"word{i:03d}" for i in range(80))
    f = Finding(
        rule_id="VULN-X",
        control_ids=("DLC-C-02",),
        severity=Severity.HIGH,
        title=f"torch 2.2.0: GHSA-xxxx: {words}",
        resource=Resource(type="package", path="requirements.txt", name="torch"),
        location=Location(),
        remediation=Remediation(text="Upgrade torch"),
    )
    text = _plain(replace(result, findings=[f]), catalog)
    line = next(line for line in text.splitlines() if "GHSA-xxxx" in line)
    assert line.endswith("…") and re.search(r" word\d{3}…$", line), line
    assert len(line) <= PLAIN_WIDTH


@pytest.mark.parametrize("group_by", GROUP_BY_CHOICES)
def test_every_grouping_lists_every_failing_finding(result: ScanResult, catalog: Catalog, group_by: str) -> None:
    text = _plain(result, catalog, group_by=group_by)
    body = text[text.index("── Failing findings") :]
    for f in _failing(result):
        assert f.rule_id in body and f.resource.path in body


# --- the example workspace: the structural property, not today's exact text --------------------------


def test_example_fits_and_lists_every_failing_finding(example_result: ScanResult, catalog: Catalog) -> None:
    """Under 300 lines at 120 columns with every failing finding's rule and resource present (other
    capabilities add findings to the example: the layout keeps headroom, see docs/reports.md)."""
    failing = _failing(example_result)
    assert failing
    for width in (120, 80):
        text = _plain(example_result, catalog, width)
        body = text[text.index("── Failing findings") :]
        for f in failing:
            assert f.rule_id in body and f.resource.path in body, (width, f.rule_id, f.resource.path)
        if width == 120:
            assert len(text.splitlines()) < 300
    for group_by in ("resource", "rule"):
        body = _plain(example_result, catalog, group_by=group_by)
        assert all(f.rule_id in body and f.resource.path in body for f in failing)


def test_example_commands_are_whole_lines(example_result: ScanResult, catalog: Catalog) -> None:
    lines = set(_plain(example_result, catalog, 80).splitlines())
    for f in _failing(example_result):
        if f.status is Status.FAIL and f.remediation.command:
            assert f"{INDENT}$ {f.remediation.command}" in lines
