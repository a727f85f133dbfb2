"""The result of one scan: what reports read (they never re-run analysis)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from shareguard.core.context import ScanIssue
from shareguard.core.coverage import Coverage
from shareguard.core.facts import FactStore
from shareguard.core.finding import Finding, Status
from shareguard.core.rules import RuleMeta
from shareguard.core.severity import Severity

HIDDEN = "hidden"
"""A finding whose `properties[HIDDEN]` gives a reason is one reports do not list (an analyzer's display
threshold, e.g. `--min-confidence`): it still decides its duty's verdict, like a finding `--severity` hides."""


@dataclass(frozen=True)
class ExpiredWaiver:
    """A waiver whose `expires` date has passed: it no longer applies and is itself reported."""

    source: str
    line: int | None
    expires: str
    reason: str
    matched: int


@dataclass
class ScanResult:
    command: str
    """`audit`, `image`, `rootfs`, `config`, `models`…"""
    target: str
    started: datetime
    finished: datetime
    findings: list[Finding]
    facts: FactStore
    coverage: Coverage
    """What was evaluated per duty and per analyzer (verdicts are read from it, never from `findings` alone)."""
    issues: list[ScanIssue] = field(default_factory=list)
    rules: dict[str, RuleMeta] = field(default_factory=dict)
    """Metadata of every rule that can fire in this run (SARIF's rules, help text)."""
    expired_waivers: list[ExpiredWaiver] = field(default_factory=list)
    metadata: dict[str, Any] = field(default_factory=dict)
    shown_severities: frozenset[Severity] | None = None
    """`--severity`/`--min-severity`: which findings reports list (None: all). Verdicts ignore it."""

    def failing(self) -> list[Finding]:
        return [f for f in self.findings if f.status is Status.FAIL]

    def shown(self) -> list[Finding]:
        """The findings reports list (the display filter applied); `findings` keeps them all."""
        keep = self.shown_severities
        if keep is None:
            if not any(HIDDEN in f.properties for f in self.findings):
                return self.findings
            return [f for f in self.findings if HIDDEN not in f.properties]
        return [f for f in self.findings if f.severity in keep and HIDDEN not in f.properties]

    def hidden(self) -> dict[str, int]:
        """Findings an analyzer hid from the reports (`properties[HIDDEN]`), counted by reason."""
        out: dict[str, int] = {}
        for f in self.findings:
            reason = f.properties.get(HIDDEN)
            if reason:
                out[str(reason)] = out.get(str(reason), 0) + 1
        return out

    def has_errors(self) -> bool:
        return any(i.kind == "error" for i in self.issues)

    def filter_severity(self, keep: Iterable[Severity]) -> ScanResult:
        """Show only findings of these severities; the verdicts still read every finding."""
        wanted = frozenset(keep)
        return replace(self, shown_severities=None if wanted == frozenset(Severity) else wanted)
