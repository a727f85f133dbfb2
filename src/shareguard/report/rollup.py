"""Roll findings and coverage up to the duty catalog: fail, accepted, incomplete, pass or not assessed.

Every reporter reads this one roll-up so that table, JSON, SARIF and HTML never disagree.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from enum import StrEnum

from shareguard.catalog.model import Catalog, Control, Owner, Service
from shareguard.core.coverage import DutyEvidence, Gap, resource_key
from shareguard.core.finding import Finding, Status
from shareguard.core.result import ScanResult
from shareguard.core.severity import Severity


class DutyStatus(StrEnum):
    """A duty's verdict, read from what was evaluated (the order is the precedence)."""

    FAIL = "fail"
    """Some evaluated resource fails a rule of it (whatever the display filters show)."""
    ACCEPTED = "accepted"
    """It failed, but every failure is waived or baselined: an accepted risk, never a pass."""
    INCOMPLETE = "incomplete"
    """Nothing failed, but some input in its scope could not be analysed."""
    PASS = "pass"
    """At least one resource in its scope was evaluated by its rules and none failed."""
    NOT_ASSESSED = "not_assessed"
    """Nothing in its scope was evaluated; `reason` says why."""


PROVIDER_REASON = "the provider's half of the model: not assessed by shareguard"
NO_RULE_REASON = "no analyzer checks this duty yet"
NO_RESOURCE_REASON = "no resource in its scope was found"


@dataclass(frozen=True)
class DutyRow:
    """One duty of the catalog with its verdict, the evidence it stands on, and the findings shown for it."""

    control: Control
    service: str
    status: DutyStatus
    counts: dict[str, int]
    """All findings naming this duty, per finding status (`fail`, `pass`, `waived`), before display filters."""
    findings: tuple[Finding, ...]
    """The findings shown for it (display filters applied)."""
    resources: int = 0
    """Resources its rules evaluated."""
    rules: int = 0
    """Rules of it that were evaluated."""
    gaps: tuple[Gap, ...] = ()
    """In-scope input that could not be analysed."""
    reason: str | None = None
    """Why it is not assessed or incomplete (None for fail, accepted, pass)."""

    @property
    def owner(self) -> Owner:
        return self.control.owner

    def checked(self) -> str:
        """`12 resources, 5 rules`: how much a verdict stands on."""
        return f"{_plural(self.resources, 'resource')}, {_plural(self.rules, 'rule')}"

    def summary(self) -> str:
        """One line for every format: the verdict's evidence or its reason."""
        if self.status is DutyStatus.NOT_ASSESSED:
            return self.reason or NO_RESOURCE_REASON
        parts = [self.checked()]
        if self.status is DutyStatus.FAIL:
            parts.append(f"{self.counts.get('fail', 0)} failing")
        if self.counts.get("waived"):
            parts.append(f"{self.counts['waived']} accepted")
        if self.gaps:
            parts.append(f"{_plural(len(self.gaps), 'input')} not analysed")
        if self.reason and self.status is not DutyStatus.FAIL:
            parts.append(self.reason)
        return "; ".join(parts)


def _plural(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"


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


def duty_status(control: Control, counts: Counter[str], evidence: DutyEvidence | None) -> DutyStatus:
    """fail > accepted > incomplete > pass > not assessed; provider duties are never assessed here."""
    if control.owner is Owner.PROVIDER:
        return DutyStatus.NOT_ASSESSED
    if counts.get(Status.FAIL.value):
        return DutyStatus.FAIL
    if counts.get(Status.WAIVED.value):
        return DutyStatus.ACCEPTED
    if evidence is not None and evidence.gaps:
        return DutyStatus.INCOMPLETE
    if evidence is not None and evidence.resources:
        return DutyStatus.PASS
    return DutyStatus.NOT_ASSESSED


def _reason(control: Control, status: DutyStatus, evidence: DutyEvidence | None, checked_by: set[str]) -> str | None:
    if control.owner is Owner.PROVIDER:
        return PROVIDER_REASON
    said = "; ".join(evidence.reasons) if evidence is not None and evidence.reasons else None
    if status is DutyStatus.NOT_ASSESSED:
        if said:
            return said
        return NO_RESOURCE_REASON if control.id in checked_by else NO_RULE_REASON
    if status is DutyStatus.INCOMPLETE and evidence is not None:
        first = evidence.gaps[0]
        more = f" (+{len(evidence.gaps) - 1} more)" if len(evidence.gaps) > 1 else ""
        return f"{first.path}: {first.reason}{more}" + (f"; {said}" if said else "")
    return said


def _merged(evidence: DutyEvidence | None, found: tuple[set[str], set[str]] | None) -> DutyEvidence | None:
    if found is None:
        return evidence
    if evidence is None:
        return DutyEvidence(resources=set(found[0]), rules=set(found[1]))
    if found[0] <= evidence.resources and found[1] <= evidence.rules:
        return evidence  # the engine recorded every finding as an evaluation: nothing to add (no copy)
    return DutyEvidence(evidence.resources | found[0], evidence.rules | found[1], evidence.gaps, evidence.reasons)


def rollup(result: ScanResult, catalog: Catalog) -> Rollup:
    """Verdicts from every finding and the coverage; each duty lists only the findings shown."""
    counts_by: dict[str, Counter[str]] = {}
    # A finding is evidence by itself (the engine records it too; a result built by hand may not have).
    found: dict[str, tuple[set[str], set[str]]] = {}
    for f in result.findings:
        key, status, rule = resource_key(f), f.status.value, f.rule_id
        for cid in f.control_ids:
            counts_by.setdefault(cid, Counter())[status] += 1
            resources, rules = found.setdefault(cid, (set(), set()))
            resources.add(key)
            rules.add(rule)
    shown_by: dict[str, list[Finding]] = {}
    known = catalog.controls
    unmapped: list[Finding] = []
    # Sorted once, then dealt out: each duty's list comes out in `sort_findings` order (the sort is stable).
    for f in sort_findings(result.shown()):
        ids = [cid for cid in f.control_ids if cid in known]
        if not ids:
            unmapped.append(f)
        for cid in ids:
            shown_by.setdefault(cid, []).append(f)
    checked_by = {cid for meta in result.rules.values() for cid in meta.control_ids}
    services: list[ServiceRollup] = []
    for svc in catalog.services.values():
        rows: list[DutyRow] = []
        for c in svc.controls:
            counts = counts_by.get(c.id, Counter())
            evidence = _merged(result.coverage.of(c.id), found.get(c.id))
            status = duty_status(c, counts, evidence)
            provider = c.owner is Owner.PROVIDER
            rows.append(
                DutyRow(
                    control=c,
                    service=svc.service,
                    status=status,
                    counts={s.value: counts.get(s.value, 0) for s in Status},
                    findings=tuple(shown_by.get(c.id, ())),
                    resources=0 if provider or evidence is None else len(evidence.resources),
                    rules=0 if provider or evidence is None else len(evidence.rules),
                    gaps=() if provider or evidence is None else tuple(evidence.gaps),
                    reason=_reason(c, status, evidence, checked_by),
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
