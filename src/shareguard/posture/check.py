"""The posture check plugin kind and the analyzer plumbing that runs checks over parsed resources."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from functools import cache
from typing import Protocol, runtime_checkable

from shareguard.core.analyzer import Output
from shareguard.core.context import ScanContext
from shareguard.core.coverage import Evaluations, Gap, RuleSet, key_of
from shareguard.core.entry import FileEntry
from shareguard.core.errors import ShareguardError
from shareguard.core.facts import ConfigResource
from shareguard.core.fastmodel import construct
from shareguard.core.finding import Finding, Remediation, SeveritySource, build_finding
from shareguard.core.registry import Registry
from shareguard.core.resource import Location, Resource
from shareguard.core.rules import RuleMeta
from shareguard.posture.model import PostureResource, Unresolved, Violation
from shareguard.posture.suppress import MARKER, apply_suppressions, find_suppressions


@runtime_checkable
class PostureCheck(Protocol):
    """A family of checks over some canonical resource types."""

    name: str
    types: frozenset[str]
    """Canonical resource types it looks at (`*` for all)."""

    def check(self, resource: PostureResource, ctx: ScanContext) -> Iterable[Violation | Unresolved]: ...


Selector = tuple[str, tuple[tuple[str, str], ...]]
"""A parsed `applies_to` entry: (type, ((attribute, value), …))."""


def parse_selector(text: str) -> Selector:
    """`aws.iam.policy[context=bucket]` → ("aws.iam.policy", (("context", "bucket"),))."""
    if "[" not in text:
        return text, ()
    kind, _, rest = text.partition("[")
    pairs = tuple(tuple(p.split("=", 1)) for p in rest.rstrip("]").split(",") if "=" in p)
    return kind, pairs  # type: ignore[return-value]


def resource_key(res: PostureResource) -> str:
    """The key a resource is counted under in the coverage (`core.coverage.key_of`, as findings are keyed)."""
    return key_of(res.file, res.name)


_NONE: frozenset[str] = frozenset()
"""No unresolved rule (a set is made when a check reports one)."""
_MAX_RULE_SETS = 4096
"""Interned rule sets kept per analyzer (rule combinations are few; past this they are built per resource)."""


@dataclass(frozen=True)
class _RulePlan:
    """The rules of one family that can select resources of one type."""

    rules: tuple[tuple[RuleMeta, tuple[tuple[tuple[str, str], ...], ...] | None], ...]
    """Each rule with the attribute conditions left to check (None: the type alone selects it)."""
    conditional: bool
    """Some rule selects by attribute: the selection is worked out per resource."""
    static: RuleSet | None
    """All the rules, when none is conditional (None: no rule)."""


@dataclass
class PostureAnalyzer:
    """A FileAnalyzer for one configuration format: parse → resources → every matching check.

    Verdicts from evidence: for each resource, the rules of each check family that examined it and
    whose `applies_to` selects it are recorded as evaluated there (a violation fails it, an
    `Unresolved` leaves its duties incomplete). A family that merely ran assesses nothing."""

    name: str
    version: str
    controls: tuple[str, ...]
    """The duties a file of this format that cannot be parsed leaves incomplete."""
    claim: Callable[[FileEntry], bool]
    parse: Callable[[FileEntry, ScanContext], list[PostureResource]]
    checks: Registry[PostureCheck]
    rules: Callable[[], dict[str, RuleMeta]]
    family_rules: Callable[[], dict[str, tuple[tuple[RuleMeta, tuple[Selector, ...]], ...]]] = dict
    """Check family (`<check name>` up to the first dot = its rules file) → its rules with their parsed `applies_to`."""
    _plans: dict[str, list[tuple[PostureCheck, Callable[[ScanContext], bool] | None, _RulePlan]]] = field(
        default_factory=dict, init=False, repr=False, compare=False
    )
    _plans_for: int = field(default=-1, init=False, repr=False, compare=False)
    _rule_plans: dict[tuple[str, str], _RulePlan] = field(default_factory=dict, init=False, repr=False, compare=False)
    _rule_sets: dict[tuple[object, ...], RuleSet] = field(default_factory=dict, init=False, repr=False, compare=False)
    """Interned rule sets: by the rule ids of a family's selection, and by the sets one resource combines."""

    def claims(self, entry: FileEntry) -> bool:
        return self.claim(entry)

    def analyze(self, entry: FileEntry, ctx: ScanContext) -> Iterable[Output]:
        resources = self.parse(entry, ctx)
        rules = self.rules()
        by_family = self.family_rules()
        findings: list[Finding] = []
        records: list[Evaluations | Gap] = []
        shared = _Shared()
        for res in resources:
            yield ConfigResource(
                type=res.type,
                name=res.name,
                path=res.file,
                line=res.line,
                attributes=res.attributes,
                source_format=res.source_format,
                lines=res.lines,
                raw_type=res.raw_type,
            )
            evaluated: list[RuleSet] = []
            for chk, active, plan in self._plan(res.type, by_family):
                if active is not None and not active(ctx):  # a check that applies only under some settings
                    continue
                try:
                    outs = list(chk.check(res, ctx))
                except ShareguardError as exc:
                    ctx.error(entry.rel_path, f"check {chk.name}: {exc.message}", self.name)
                    continue
                except Exception as exc:
                    ctx.error(
                        entry.rel_path, f"check {chk.name} failed on {res.name}: {type(exc).__name__}: {exc}", self.name
                    )
                    continue
                unresolved: frozenset[str] | set[str] = _NONE
                for out in outs:
                    if isinstance(out, Unresolved):
                        meta = rules[out.rule_id]
                        if not isinstance(unresolved, set):
                            unresolved = set()
                        unresolved.add(out.rule_id)
                        where = f"{entry.rel_path}: {res.name}" + (f".{out.field_path}" if out.field_path else "")
                        records.append(Gap(meta.control_ids, where, f"{out.rule_id} unresolved: {out.reason}"))
                    else:
                        findings.append(to_finding(out, res, rules, self.name, shared))
                if plan.conditional or unresolved:
                    chosen = self._selected(plan, res.attributes, unresolved)
                    if chosen is not None:
                        evaluated.append(chosen)
                elif plan.static is not None:
                    evaluated.append(plan.static)
            if evaluated:
                records.append(Evaluations(self._combined(evaluated), resource_key(res)))
        yield from records
        yield from self._suppressed(entry, findings, ctx)

    def _selected(
        self, plan: _RulePlan, attrs: dict[str, object], unresolved: frozenset[str] | set[str]
    ) -> RuleSet | None:
        """The plan's rules that select a resource with `attrs` (its `applies_to` conditions), less the
        unresolved ones: the rules evaluated on it."""
        chosen = tuple(
            meta
            for meta, alternatives in plan.rules
            if meta.id not in unresolved
            and (alternatives is None or any(all(str(attrs.get(k)) == v for k, v in pairs) for pairs in alternatives))
        )
        if not chosen:
            return None
        return self._interned(tuple(m.id for m in chosen), chosen)

    def _interned(self, key: tuple[object, ...], metas: tuple[RuleMeta, ...]) -> RuleSet:
        found = self._rule_sets.get(key)
        if found is None:
            found = RuleSet(tuple((m.id, m.control_ids) for m in metas))
            if len(self._rule_sets) < _MAX_RULE_SETS:
                self._rule_sets[key] = found
        return found

    def _combined(self, sets: list[RuleSet]) -> RuleSet:
        """One rule set for the sets of every family that examined a resource (interned: resources of one
        type mostly combine the same sets)."""
        if len(sets) == 1:
            return sets[0]
        key = tuple(sets)
        found = self._rule_sets.get(key)
        if found is None:
            found = RuleSet(tuple(r for s in sets for r in s.rules))
            if len(self._rule_sets) < _MAX_RULE_SETS:
                self._rule_sets[key] = found
        return found

    def _rules_for(
        self, family: str, res_type: str, by_family: dict[str, tuple[tuple[RuleMeta, tuple[Selector, ...]], ...]]
    ) -> _RulePlan:
        """The family's rules whose `applies_to` can select a resource of `res_type`, each with the attribute
        conditions left to check (None: the type alone selects it). Worked out once per (family, type):
        `selects` per rule and resource was most of a config scan's bookkeeping."""
        key = (family, res_type)
        plan = self._rule_plans.get(key)
        if plan is None:
            selected: list[tuple[RuleMeta, tuple[tuple[tuple[str, str], ...], ...] | None]] = []
            for meta, selectors in by_family.get(family, ()):
                matching = [pairs for kind, pairs in selectors if kind in ("*", res_type)]
                if matching:
                    selected.append((meta, None if any(not pairs for pairs in matching) else tuple(matching)))
            conditional = any(alternatives is not None for _, alternatives in selected)
            static = None
            if selected and not conditional:
                static = self._interned(tuple(m.id for m, _ in selected), tuple(m for m, _ in selected))
            plan = self._rule_plans[key] = _RulePlan(tuple(selected), conditional, static)
        return plan

    def _plan(
        self, res_type: str, by_family: dict[str, tuple[tuple[RuleMeta, tuple[Selector, ...]], ...]]
    ) -> list[tuple[PostureCheck, Callable[[ScanContext], bool] | None, _RulePlan]]:
        """(check, its optional `active` predicate, its family's rules for `res_type`) of the checks that look
        at `res_type`.

        Worked out once per resource type (registries only grow: a new check resets it)."""
        if self._plans_for != len(self.checks):
            self._plans, self._plans_for = {}, len(self.checks)
        plan = self._plans.get(res_type)
        if plan is None:
            plan = self._plans[res_type] = [
                (chk, getattr(chk, "active", None), self._rules_for(chk.name.split(".", 1)[0], res_type, by_family))
                for chk in self.checks
                if "*" in chk.types or res_type in chk.types
            ]
        return plan

    def _suppressed(self, entry: FileEntry, findings: list[Finding], ctx: ScanContext) -> list[Finding]:
        """Apply the file's inline `shareguard:ignore` comments (read only when there is something to waive)."""
        if not findings:
            return findings
        raw = entry.read(ctx.settings.budgets.max_config_bytes)
        if MARKER not in raw:
            return findings
        found, problems = find_suppressions(raw.decode("utf-8", errors="replace"))
        for p in problems:
            ctx.warn(f"{entry.rel_path}:{p.line}", p.message, self.name)
        return apply_suppressions(findings, found)


class _Shared:
    """Immutable models many findings of one file share (built once: pydantic validation is the cost)."""

    def __init__(self) -> None:
        self.resources: dict[tuple[str, str, str], Resource] = {}
        self.remediations: dict[int, Remediation] = {}

    def resource(self, res: PostureResource) -> Resource:
        key = (res.raw_type or res.type, res.file, res.name)
        out = self.resources.get(key)
        if out is None:
            out = self.resources[key] = resource_model(key[0], res.file, res.name)
        return out

    def remediation(self, meta: RuleMeta) -> Remediation:
        out = self.remediations.get(id(meta))
        if out is None:
            out = self.remediations[id(meta)] = _remediation(meta.remediation, meta.cli, meta.terraform)
        return out


@cache
def _remediation(text: str, command: str | None, snippet: str | None) -> Remediation:
    """One model per rule's remediation for the whole run (rule metadata is immutable; the set is small)."""
    return Remediation(text=text, command=command, snippet=snippet)


def to_finding(
    v: Violation, res: PostureResource, rules: dict[str, RuleMeta], analyzer: str, shared: _Shared | None = None
) -> Finding:
    meta = v.meta or rules[v.rule_id]  # a KeyError here is a bug: every check's rule has metadata
    shared = shared or _Shared()
    title = f"{meta.title}: {v.detail}" if v.detail else meta.title
    line = v.line if v.line is not None else res.line_of(v.field_path)
    props = {"resource_type": res.type, "raw_type": res.raw_type}
    if v.fingerprint_key:
        props["fingerprint_key"] = v.fingerprint_key
    # What `meta.finding(...)` does with these arguments, minus one layer of keyword calls per finding.
    return build_finding(
        rule_id=meta.id,
        control_ids=meta.control_ids,
        severity=meta.severity,
        severity_source=SeveritySource.RULE,
        title=title or meta.title,
        description=meta.description or None,
        resource=shared.resource(res),
        location=_location(line, v.field_path),
        evidence=v.evidence,
        remediation=shared.remediation(meta),
        analyzer=analyzer,
        properties=props,
    )


def resource_model(type_: str, path: str, name: str | None) -> Resource:
    """A `Resource`, without a validation pass when the parts are of the declared types (the usual case)."""
    if type(type_) is str and type(path) is str and (name is None or type(name) is str):
        return construct(Resource, {"type": type_, "path": path, "name": name})
    return Resource(type=type_, path=path, name=name)


def _location(line: int | None, field_path: str | None) -> Location:
    # Parts of the types the model declares need no validation pass (one per finding adds up).
    if (line is None or type(line) is int) and (field_path is None or type(field_path) is str):
        return construct(Location, {"line": line, "field_path": field_path})
    return Location(line=line, field_path=field_path)
