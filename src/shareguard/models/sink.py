"""Where a model finding points (file, archive member chain) and the sink that collects what one file's
analysis found: findings, the rules it really evaluated, and the parts it could not analyse.

A rule counts as evaluated on the file only where a reader really judged the construct the rule is
about (a pickle walked to its end, a Keras config walked, a protobuf graph read whole…): `evaluate`.
Content that could not be analysed (truncated or malformed, over a budget, nested too deep, a format
or variant shareguard cannot read) is no finding about the model but a gap: `not_analysed`. The
analyzer turns gaps into per-file issues that leave the file's duties `incomplete`.
"""

from __future__ import annotations

import heapq
import itertools
from dataclasses import dataclass, field
from typing import Any

from shareguard.core.finding import Finding, Remediation, SeveritySource
from shareguard.core.resource import Location, Resource
from shareguard.core.severity import Severity
from shareguard.models.rules import rule

MAX_FINDINGS_PER_FILE = 500
"""Findings listed one by one per file. The cap shortens what is shown, never what is decided: the most
severe findings are kept (a critical one is never pushed out by medium ones), and the rest are listed as
one summary finding per (rule, severity) with their count (`FindingSink.result`)."""
MAX_GAPS_PER_FILE = 20
"""Parts not analysed listed one by one per file; past that only counted."""
SAMPLES = 5
"""Evidence of this many findings past the cap is quoted in their rule's summary."""

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
    kept: list[tuple[int, int, Finding]] = field(default_factory=list)
    """Heap of (severity rank, -arrival, finding): the least severe, latest finding on top (evicted first)."""
    dropped: int = 0
    """Findings not listed one by one (past the cap): counted in `overflow` and summarised."""
    overflow: dict[tuple[str, Severity], list[Finding]] = field(default_factory=dict)
    """(rule, severity) → up to `SAMPLES` of the findings past the cap; `overflow_counts` has the counts."""
    overflow_counts: dict[tuple[str, Severity], int] = field(default_factory=dict)
    notes: list[tuple[Where, str]] = field(default_factory=list)
    """Content that is not a model format shareguard analyses (a protobuf of another message type): said
    as a warning, neither a finding nor a gap."""
    _seq: itertools.count[int] = field(default_factory=itertools.count)
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
        meta = rule(rule_id)
        props = dict(properties or {})
        if key is not None:
            props["fingerprint_key"] = key
        rem = None
        if remediation is not None or fixed_version is not None or command is not None:
            rem = Remediation(text=remediation or meta.remediation, fixed_version=fixed_version, command=command)
        self.keep(
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

    def keep(self, finding: Finding) -> None:
        """List `finding`, or (past the cap) whichever of it and the least severe listed one ranks lower
        goes to the per-rule summary: the cap never drops a finding more severe than one it lists."""
        item = (finding.severity.rank, -next(self._seq), finding)
        if len(self.kept) < MAX_FINDINGS_PER_FILE:
            heapq.heappush(self.kept, item)
            return
        if item[:2] > self.kept[0][:2]:
            item = heapq.heapreplace(self.kept, item)
        self._overflow(item[2])

    def _overflow(self, finding: Finding) -> None:
        self.dropped += 1
        key = (finding.rule_id, finding.severity)
        self.overflow_counts[key] = self.overflow_counts.get(key, 0) + 1
        samples = self.overflow.setdefault(key, [])
        if len(samples) < SAMPLES:
            samples.append(finding)

    @property
    def findings(self) -> list[Finding]:
        """The findings listed one by one, in the order they were found."""
        return [f for _, _, f in sorted(self.kept, key=lambda item: -item[1])]

    def result(self) -> list[Finding]:
        """The listed findings, then one summary finding per (rule, severity) past the cap, carrying
        the count: every rule that failed on the file still fails with its highest severity."""
        out = self.findings
        for (rule_id, severity), count in sorted(
            self.overflow_counts.items(), key=lambda kv: (-kv[0][1].rank, kv[0][0])
        ):
            samples = self.overflow[(rule_id, severity)]
            first = samples[0]
            shown = ", ".join(f.evidence or f.title for f in samples)
            more = f", … ({count - len(samples)} more)" if count > len(samples) else ""
            summary = {
                "title": f"{count} further {severity.value} findings of {rule_id} not listed (per-file cap)",
                "evidence": f"{shown}{more}",
                "location": Location(member=first.location.member),
                "properties": {"fingerprint_key": f"per-file-cap:{rule_id}:{severity.value}", "count": count},
                "fingerprint": "",
            }
            out.append(Finding(**{**dict(first), **summary}))
        return out

    def cap_message(self) -> str | None:
        """One line naming each summarised rule and its count, for the per-file warning."""
        if not self.dropped:
            return None
        parts = ", ".join(
            f"{rule_id} ({severity.value}): {count}"
            for (rule_id, severity), count in sorted(
                self.overflow_counts.items(), key=lambda kv: (-kv[0][1].rank, kv[0][0])
            )
        )
        return (
            f"{self.dropped} further findings not listed one by one (per-file cap of {MAX_FINDINGS_PER_FILE}; the "
            f"most severe are listed, the rest summarised by rule): {parts}"
        )

    def not_a_model(self, where: Where, reason: str) -> None:
        """Content that is not a model file shareguard analyses: said, neither a finding nor a gap."""
        if len(self.notes) < MAX_GAPS_PER_FILE:
            self.notes.append((where, " ".join(reason.split())[:300]))
