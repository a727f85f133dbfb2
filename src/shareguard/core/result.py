"""The result of one scan: what reports read (they never re-run analysis)."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from shareguard.core.context import ScanIssue
from shareguard.core.facts import FactStore
from shareguard.core.finding import Finding, Status
from shareguard.core.rules import RuleMeta
from shareguard.core.severity import Severity


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
    assessed: set[str]
    """Control ids some analyzer looked at."""
    issues: list[ScanIssue] = field(default_factory=list)
    rules: dict[str, RuleMeta] = field(default_factory=dict)
    """Metadata of every rule that can fire in this run (SARIF's rules, help text)."""
    expired_waivers: list[ExpiredWaiver] = field(default_factory=list)
    metadata: dict[str, Any] = field(default_factory=dict)

    def failing(self) -> list[Finding]:
        return [f for f in self.findings if f.status is Status.FAIL]

    def has_errors(self) -> bool:
        return any(i.kind == "error" for i in self.issues)

    def filter_severity(self, keep: list[Severity]) -> ScanResult:
        wanted = set(keep)
        return replace(self, findings=[f for f in self.findings if f.severity in wanted])
