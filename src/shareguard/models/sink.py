"""Where a model finding points (file, archive member chain) and the sink that collects what one file's
analysis found: findings, the rules it really evaluated, and the parts it could not analyse.

A rule counts as evaluated on the file only where a reader really judged the construct the rule is
about (a pickle walked to its end, a Keras config walked, a protobuf graph read whole…): `evaluate`.
Content that could not be analysed (truncated or malformed, over a budget, nested too deep, a format
or variant shareguard cannot read) is no finding about the model but a gap: `not_analysed`. The
analyzer turns gaps into per-file issues that leave the file's duties `incomplete`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from shareguard.core.finding import Finding, Remediation, SeveritySource
from shareguard.core.resource import Location, Resource
from shareguard.core.severity import Severity
from shareguard.models.rules import rule

MAX_FINDINGS_PER_FILE = 500
MAX_GAPS_PER_FILE = 20
"""Parts not analysed listed one by one per file; past that only counted."""

RETIRED_NOT_ANALYSED: dict[str, tuple[str, frozenset[str] | None]] = {
    "MODEL-003": ("malformed or truncated, not fully analysed", None),
    "MODEL-010": ("over the decompression limits (possible decompression bomb), not analysed", None),
    "MODEL-011": ("archives nested deeper than the analysis limit, innermost content not analysed", None),
    "MODEL-012": ("archive member unreadable, not analysed", frozenset({"header", "method", "corrupt"})),
    "MODEL-013": ("not a format shareguard can analyse", None),
}
"""Retired ids (and, for MODEL-012, the `key`s) under which readers still report content they could not
analyse (malformed, over budget, nested too deep, unreadable member, unsupported format): `add` records
them as gaps, never as findings. MODEL-012 keeps its findings for members that were analysed anyway
(encrypted flag, CRC mismatch)."""


@dataclass(frozen=True)
class Where:
    path: str
    """The scanned file, relative to the scan root."""
    member: str | None = None
    """Archive member chain, `outer.zip!/inner/data.pkl` style."""
    depth: int = 0
    """How many archive/compression layers are above this content."""

    def child(self, name: str) -> Where:
        member = name if self.member is None else f"{self.member}!/{name}"
        return Where(self.path, member, self.depth + 1)

    def compressed(self, kind: str) -> Where:
        member = f"<{kind}>" if self.member is None else f"{self.member}!/<{kind}>"
        return Where(self.path, member, self.depth + 1)

    def label(self) -> str:
        return self.path if self.member is None else f"{self.path}!/{self.member}"


@dataclass
class FindingSink:
    analyzer: str
    findings: list[Finding] = field(default_factory=list)
    dropped: int = 0
    evaluated: dict[str, None] = field(default_factory=dict)
    """Rule ids really evaluated on this file (insertion-ordered set)."""
    gaps: list[tuple[Where, str]] = field(default_factory=list)
    """Parts of this file that could not be analysed, with the reason."""
    gaps_dropped: int = 0

    def evaluate(self, *rule_ids: str) -> None:
        """These rules were evaluated on (part of) this file: their construct was there and judged whole."""
        for r in rule_ids:
            self.evaluated.setdefault(r, None)

    def not_analysed(self, where: Where, reason: str) -> None:
        """Content in scope that could not be analysed: the file's duties cannot pass."""
        if len(self.gaps) >= MAX_GAPS_PER_FILE:
            self.gaps_dropped += 1
            return
        self.gaps.append((where, " ".join(reason.split())[:300]))

    def add(
        self,
        rule_id: str,
        where: Where,
        *,
        title: str | None = None,
        evidence: str | None = None,
        offset: int | None = None,
        severity: Severity | None = None,
        severity_source: SeveritySource | None = None,
        remediation: str | None = None,
        fixed_version: str | None = None,
        command: str | None = None,
        line: int | None = None,
        key: str | None = None,
        properties: dict[str, Any] | None = None,
        resource_type: str = "model_file",
        name: str | None = None,
    ) -> None:
        retired = RETIRED_NOT_ANALYSED.get(rule_id)
        if retired is not None and (retired[1] is None or key in retired[1]):
            at = f" (at byte {offset})" if offset is not None else ""
            self.not_analysed(where, (title or f"{retired[0]}: {evidence}") + at)
            return
        if len(self.findings) >= MAX_FINDINGS_PER_FILE:
            self.dropped += 1
            return
        meta = rule(rule_id)
        props = dict(properties or {})
        if key is not None:
            props["fingerprint_key"] = key
        rem = None
        if remediation is not None or fixed_version is not None or command is not None:
            rem = Remediation(text=remediation or meta.remediation, fixed_version=fixed_version, command=command)
        self.findings.append(
            meta.finding(
                Resource(type=resource_type, path=where.path, name=name),
                location=Location(member=where.member, offset=offset, line=line),
                evidence=evidence,
                title=title,
                severity=severity,
                severity_source=severity_source,
                remediation=rem,
                analyzer=self.analyzer,
                properties=props,
            )
        )
