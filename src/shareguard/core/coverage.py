"""What a scan really evaluated, per duty and per analyzer: the evidence every verdict stands on.

A duty may pass only where some rule of it was evaluated on some resource in its scope and
nothing failed. Analyzers say what they evaluated by yielding `Evaluation`s (a failing finding is
an evaluation by itself), or one `Evaluations` per resource for a set of rules evaluated together on it
(the same evidence, filed with less work per rule); what they could not analyse by yielding `Gap`s (or through
`ScanContext.error`), and why nothing was evaluated by yielding an `Unassessed` reason. The engine
collects these outputs into the per-scan `Coverage`; the roll-up reads it. Nothing here is global.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from shareguard.core.finding import Finding

MAX_LISTED_INPUTS = 1000
"""Inputs listed by name per analyzer in reports; past that only counted (the count is exact)."""


def key_of(path: str, name: str | None) -> str:
    """The key a resource is counted under: its path, `#name` when it names one inside it. Findings and the
    evaluations that passed must use the same key, or a duty's evidence would not join up."""
    return f"{path}#{name}" if name and name != path else path


def resource_key(f: Finding) -> str:
    """The key a finding's resource is counted under (`key_of`)."""
    return key_of(f.resource.path, f.resource.name)


@dataclass(frozen=True, slots=True)
class Evaluation:
    """`rule` was evaluated on `resource` and did not fail there (or failed: a finding says so too)."""

    rule: str
    controls: tuple[str, ...]
    resource: str
    """A stable key of the resource: its path, and `#name` where a file holds several."""


@dataclass(frozen=True, slots=True, eq=False)
class RuleSet:
    """Rules that are evaluated together (e.g. the rules a check family applies to one resource type),
    each with its duties. Built once and shared by every resource they are evaluated on: the coverage
    files the rules of a set under each duty once, and then only the resources. Compared by identity."""

    rules: tuple[tuple[str, tuple[str, ...]], ...]
    """(rule id, its duties) in a stable order."""
    by_control: tuple[tuple[str, frozenset[str]], ...] = field(init=False)
    """Each duty of the set with the set's rules that judge it."""

    def __post_init__(self) -> None:
        acc: dict[str, set[str]] = {}
        for rule, controls in self.rules:
            for c in controls:
                acc.setdefault(c, set()).add(rule)
        object.__setattr__(self, "by_control", tuple((c, frozenset(r)) for c, r in acc.items()))


@dataclass(frozen=True, slots=True)
class Evaluations:
    """Every rule of `rules` was evaluated on `resource`: the same evidence as one `Evaluation` per rule."""

    rules: RuleSet
    resource: str

    def expanded(self) -> list[Evaluation]:
        return [Evaluation(rule, controls, self.resource) for rule, controls in self.rules.rules]


@dataclass(frozen=True, slots=True)
class Gap:
    """Input in scope of `controls` that could not be analysed: those duties cannot pass."""

    controls: tuple[str, ...]
    path: str
    reason: str


@dataclass(frozen=True, slots=True)
class Unassessed:
    """Why `controls` could not be evaluated at all (e.g. no advisories for an ecosystem)."""

    controls: tuple[str, ...]
    reason: str


@dataclass
class DutyEvidence:
    """What was evaluated for one duty."""

    resources: set[str] = field(default_factory=set)
    rules: set[str] = field(default_factory=set)
    gaps: list[Gap] = field(default_factory=list)
    reasons: list[str] = field(default_factory=list)
    """Why it was not (fully) assessed, in the order first said; no repeats."""


@dataclass
class InputLog:
    """The inputs one analyzer evaluated and the ones it skipped, with the reason."""

    evaluated: int = 0
    evaluated_paths: list[str] = field(default_factory=list)
    skipped: list[tuple[str, str]] = field(default_factory=list)
    skipped_count: int = 0


class Coverage:
    """Per-scan record of evaluations, gaps and reasons (built by the engine, read by the roll-up)."""

    def __init__(self) -> None:
        self.duties: dict[str, DutyEvidence] = {}
        self.inputs: dict[str, InputLog] = {}
        self.scopes: dict[str, tuple[str, ...]] = {}
        """Analyzer name → the duties its input falls under (a file it cannot analyse leaves them incomplete)."""
        self._filed: dict[RuleSet, tuple[set[str], ...]] = {}
        """Each rule set already filed under its duties → those duties' resource sets."""

    def _duty(self, control: str) -> DutyEvidence:
        ev = self.duties.get(control)
        if ev is None:
            ev = self.duties[control] = DutyEvidence()
        return ev

    def evaluated(self, rule: str, controls: Iterable[str], resource: str) -> None:
        duties = self.duties
        for c in controls:
            ev = duties.get(c)
            if ev is None:
                ev = duties[c] = DutyEvidence()
            ev.resources.add(resource)
            ev.rules.add(rule)

    def evaluated_all(self, rules: RuleSet, resource: str) -> None:
        """`evaluated` for every rule of `rules` on `resource`: the rules are filed under their duties the
        first time the set is seen; after that it costs one set insertion per duty."""
        targets = self._filed.get(rules)
        if targets is None:
            found: list[set[str]] = []
            for control, ids in rules.by_control:
                ev = self._duty(control)
                ev.rules.update(ids)
                found.append(ev.resources)
            targets = self._filed[rules] = tuple(found)
        for resources in targets:
            resources.add(resource)

    def gap(self, controls: Iterable[str], path: str, reason: str) -> None:
        g = Gap(tuple(controls), path, reason)
        for c in g.controls:
            self._duty(c).gaps.append(g)

    def unassessed(self, controls: Iterable[str], reason: str) -> None:
        for c in controls:
            reasons = self._duty(c).reasons
            if reason not in reasons:
                reasons.append(reason)

    def add(self, record: Evaluation | Evaluations | Gap | Unassessed) -> None:
        if isinstance(record, Evaluations):
            self.evaluated_all(record.rules, record.resource)
        elif isinstance(record, Evaluation):
            self.evaluated(record.rule, record.controls, record.resource)
        elif isinstance(record, Gap):
            self.gap(record.controls, record.path, record.reason)
        else:
            self.unassessed(record.controls, record.reason)

    def input_evaluated(self, analyzer: str, path: str) -> None:
        log = self.inputs.get(analyzer)
        if log is None:
            log = self.inputs[analyzer] = InputLog()
        log.evaluated += 1
        if len(log.evaluated_paths) < MAX_LISTED_INPUTS:
            log.evaluated_paths.append(path)

    def input_skipped(self, analyzer: str, path: str, reason: str) -> None:
        log = self.inputs.get(analyzer)
        if log is None:
            log = self.inputs[analyzer] = InputLog()
        log.skipped_count += 1
        if len(log.skipped) < MAX_LISTED_INPUTS:
            log.skipped.append((path, reason))

    def could_not_analyse(self, analyzer: str | None, path: str, reason: str) -> None:
        """An input `analyzer` claimed could not be analysed: skipped, and its duties incomplete."""
        if analyzer is None:
            return
        self.input_skipped(analyzer, path, reason)
        scope = self.scopes.get(analyzer)
        if scope:
            self.gap(scope, path, reason)

    def of(self, control: str) -> DutyEvidence | None:
        return self.duties.get(control)
