"""Roll findings up to the duty catalog: each duty passes, fails, or was not assessed.

Every reporter reads this one roll-up so that table, JSON, SARIF and HTML never disagree.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from enum import StrEnum

from shareguard.catalog.model import Catalog, Control, Owner, Service
from shareguard.core.finding import Finding, Status
from shareguard.core.result import ScanResult
from shareguard.core.severity import Severity


class DutyStatus(StrEnum):
    FAIL = "fail"
    PASS = "pass"
    NOT_ASSESSED = "not_assessed"


@dataclass(frozen=True)
class DutyRow:
    """One duty of the catalog with its verdict and the findings that name it."""

    control: Control
    service: str
    status: DutyStatus
    counts: dict[str, int]
    """Findings naming this duty, per finding status (`fail`, `pass`, `waived`)."""
    findings: tuple[Finding, ...]

    @property
    def owner(self) -> Owner:
        return self.control.owner


@dataclass(frozen=True)
class ServiceRollup:
    service: Service
    duties: tuple[DutyRow, ...]

    @property
    def customer(self) -> tuple[DutyRow, ...]:
        return tuple(d for d in self.duties if d.owner is Owner.CUSTOMER)

    @property
    def provider(self) -> tuple[DutyRow, ...]:
        return tuple(d for d in self.duties if d.owner is Owner.PROVIDER)


@dataclass(frozen=True)
class Rollup:
    services: tuple[ServiceRollup, ...]
    unmapped: tuple[Finding, ...]
    """Findings that name no control of this catalog (a plugin with its own ids)."""

    def duties(self) -> list[DutyRow]:
        return [d for s in self.services for d in s.duties]

    def customer_status_counts(self) -> dict[str, int]:
        counts = Counter(d.status.value for s in self.services for d in s.customer)
        return {st.value: counts.get(st.value, 0) for st in DutyStatus}


def duty_status(control: Control, counts: Counter[str], assessed: set[str]) -> DutyStatus:
    """fail if a failing finding names it; pass if assessed (or only passed/waived findings); else not assessed.

    Provider duties are never assessed by shareguard: they are listed so a reader sees where the line runs.
    """
    if control.owner is Owner.PROVIDER:
        return DutyStatus.NOT_ASSESSED
    if counts.get(Status.FAIL.value):
        return DutyStatus.FAIL
    if control.id in assessed or counts.total():
        return DutyStatus.PASS
    return DutyStatus.NOT_ASSESSED


def rollup(result: ScanResult, catalog: Catalog) -> Rollup:
    by_control: dict[str, list[Finding]] = {}
    known = catalog.controls
    unmapped: list[Finding] = []
    # Sorted once, then dealt out: each duty's list comes out in `sort_findings` order (the sort is stable).
    for f in sort_findings(result.findings):
        ids = [cid for cid in f.control_ids if cid in known]
        if not ids:
            unmapped.append(f)
        for cid in ids:
            by_control.setdefault(cid, []).append(f)
    services: list[ServiceRollup] = []
    for svc in catalog.services.values():
        rows: list[DutyRow] = []
        for c in svc.controls:
            findings = by_control.get(c.id, [])
            by_status = Counter(f.status for f in findings)
            counts = Counter({s.value: n for s, n in by_status.items()})
            rows.append(
                DutyRow(
                    control=c,
                    service=svc.service,
                    status=duty_status(c, counts, result.assessed),
                    counts={s.value: counts.get(s.value, 0) for s in Status},
                    findings=tuple(findings),
                )
            )
        services.append(ServiceRollup(service=svc, duties=tuple(rows)))
    return Rollup(services=tuple(services), unmapped=tuple(unmapped))


def finding_services(f: Finding, catalog: Catalog) -> list[str]:
    """The services whose duties a finding names (in catalog order, no repeats)."""
    known = catalog.controls
    out: list[str] = []
    for cid in f.control_ids:
        c = known.get(cid)
        if c is not None and c.service not in out:
            out.append(c.service)
    return out


def severity_counts(findings: list[Finding] | tuple[Finding, ...], status: Status = Status.FAIL) -> dict[str, int]:
    """Findings of one status per severity, most severe first, every severity present (zeros included)."""
    counts = Counter(f.severity.value for f in findings if f.status is status)
    return {s.value: counts.get(s.value, 0) for s in Severity}


def status_counts(findings: list[Finding] | tuple[Finding, ...]) -> dict[str, int]:
    counts = Counter(f.status.value for f in findings)
    return {s.value: counts.get(s.value, 0) for s in Status}


_STATUS_ORDER = {Status.FAIL: 0, Status.WAIVED: 1, Status.PASS: 2}


def sort_findings(findings: list[Finding] | tuple[Finding, ...]) -> list[Finding]:
    """Failing before waived before passing; then most severe first; then by resource and line."""
    return sorted(
        findings,
        key=lambda f: (
            _STATUS_ORDER[f.status],
            -f.severity.rank,
            f.rule_id,
            f.resource.path,
            f.location.line or 0,
            f.fingerprint,
        ),
    )
