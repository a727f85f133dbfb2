"""The duty roll-up every reporter reads."""

from __future__ import annotations

from report.report_strategies import result_of
from shareguard.catalog import Catalog
from shareguard.core.finding import Finding, Remediation, Status
from shareguard.core.resource import Resource
from shareguard.core.result import ScanResult
from shareguard.core.severity import Severity
from shareguard.report.rollup import DutyStatus, finding_services, rollup, sort_findings


def _finding(controls: tuple[str, ...], status: Status = Status.FAIL, sev: Severity = Severity.HIGH) -> Finding:
    return Finding(
        rule_id="R-" + "-".join(controls),
        control_ids=controls,
        severity=sev,
        title="t",
        resource=Resource(type="file", path=f"{controls}{status}{sev}"),
        remediation=Remediation(text="fix"),
        status=status,
    )


def _status(result: ScanResult, catalog: Catalog) -> dict[str, DutyStatus]:
    return {d.control.id: d.status for d in rollup(result, catalog).duties()}


def test_nothing_assessed_means_not_assessed_never_pass(catalog: Catalog) -> None:
    statuses = _status(result_of([]), catalog)
    assert set(statuses.values()) == {DutyStatus.NOT_ASSESSED}
    assert len(statuses) == len(catalog.controls)


def test_evaluated_without_findings_passes_and_failing_fails(catalog: Catalog) -> None:
    res = result_of([_finding(("IAM-C-02",))])
    res.coverage.evaluated("IAM-001", ("IAM-C-01", "IAM-C-02"), "iam/a.json")
    res.coverage.evaluated("IAM-003", ("IAM-C-01",), "iam/b.json")
    rows = {d.control.id: d for d in rollup(res, catalog).duties()}
    assert rows["IAM-C-01"].status is DutyStatus.PASS
    assert (rows["IAM-C-01"].resources, rows["IAM-C-01"].rules) == (2, 2)
    assert rows["IAM-C-01"].summary() == "2 resources, 2 rules"
    assert rows["IAM-C-02"].status is DutyStatus.FAIL
    assert rows["IAM-C-03"].status is DutyStatus.NOT_ASSESSED
    assert rows["IAM-C-03"].reason


def test_waived_failures_are_accepted_never_pass(catalog: Catalog) -> None:
    res = result_of([_finding(("STORAGE-C-03",), Status.WAIVED), _finding(("KMS-C-02",), Status.PASS)])
    roll = rollup(res, catalog)
    rows = {d.control.id: d for d in roll.duties()}
    assert rows["STORAGE-C-03"].status is DutyStatus.ACCEPTED
    assert rows["STORAGE-C-03"].counts == {"fail": 0, "pass": 0, "waived": 1}
    assert rows["KMS-C-02"].status is DutyStatus.PASS


def test_a_gap_makes_a_duty_incomplete_unless_something_failed(catalog: Catalog) -> None:
    res = result_of([_finding(("IAM-C-02",))])
    res.coverage.evaluated("IAM-001", ("IAM-C-01",), "iam/a.json")
    res.coverage.gap(("IAM-C-01", "IAM-C-02", "IAM-C-03"), "iam/broken.json", "invalid JSON")
    rows = {d.control.id: d for d in rollup(res, catalog).duties()}
    assert rows["IAM-C-01"].status is DutyStatus.INCOMPLETE
    assert rows["IAM-C-02"].status is DutyStatus.FAIL
    assert rows["IAM-C-03"].status is DutyStatus.INCOMPLETE
    assert "iam/broken.json: invalid JSON" in (rows["IAM-C-03"].reason or "")


def test_display_filter_never_changes_a_verdict(catalog: Catalog) -> None:
    res = result_of([_finding(("IAM-C-02",), sev=Severity.LOW)])
    before = _status(res, catalog)
    shown = res.filter_severity([Severity.CRITICAL])
    assert shown.shown() == [] and len(shown.findings) == 1
    assert _status(shown, catalog) == before
    row = next(d for d in rollup(shown, catalog).duties() if d.control.id == "IAM-C-02")
    assert row.status is DutyStatus.FAIL and row.findings == ()


def test_unassessed_reasons_are_reported(catalog: Catalog) -> None:
    res = result_of([])
    res.coverage.unassessed(("DLC-C-02",), "no Debian 12 advisories in the vulnerability database")
    row = next(d for d in rollup(res, catalog).duties() if d.control.id == "DLC-C-02")
    assert row.status is DutyStatus.NOT_ASSESSED
    assert row.summary() == "no Debian 12 advisories in the vulnerability database"


def test_provider_duties_are_never_assessed(catalog: Catalog) -> None:
    res = result_of([_finding(("DATAFLOW-P-01",))])
    res.coverage.evaluated("X", ("DATAFLOW-P-02",), "x")
    st = _status(res, catalog)
    assert st["DATAFLOW-P-01"] is DutyStatus.NOT_ASSESSED
    assert st["DATAFLOW-P-02"] is DutyStatus.NOT_ASSESSED


def test_unknown_controls_are_kept_aside(catalog: Catalog) -> None:
    f = _finding(("ACME-C-01",))
    roll = rollup(result_of([f]), catalog)
    assert roll.unmapped == (f,)
    assert finding_services(f, catalog) == []


def test_finding_with_several_services(catalog: Catalog) -> None:
    f = _finding(("DATAFLOW-C-06", "NETWORK-C-03", "DATAFLOW-C-07"))
    assert finding_services(f, catalog) == ["dataflow", "network"]
    roll = rollup(result_of([f]), catalog)
    assert sum(1 for d in roll.duties() if f in d.findings) == 3


def test_customer_status_counts_add_up(catalog: Catalog) -> None:
    res = result_of([_finding(("IAM-C-02",))])
    counts = rollup(res, catalog).customer_status_counts()
    customer = sum(1 for c in catalog.controls.values() if c.owner.value == "customer")
    assert sum(counts.values()) == customer and counts["fail"] == 1


def test_sort_puts_failing_and_severe_first() -> None:
    items = [
        _finding(("IAM-C-01",), Status.PASS, Severity.CRITICAL),
        _finding(("IAM-C-01",), Status.FAIL, Severity.LOW),
        _finding(("IAM-C-01",), Status.WAIVED, Severity.CRITICAL),
        _finding(("IAM-C-01",), Status.FAIL, Severity.CRITICAL),
    ]
    ordered = sort_findings(items)
    assert [(f.status, f.severity) for f in ordered] == [
        (Status.FAIL, Severity.CRITICAL),
        (Status.FAIL, Severity.LOW),
        (Status.WAIVED, Severity.CRITICAL),
        (Status.PASS, Severity.CRITICAL),
    ]
    assert sorted(f.fingerprint for f in ordered) == sorted(f.fingerprint for f in items)
