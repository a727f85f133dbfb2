"""Load Sigma rules with pySigma and compile them for the log sources shareguard ingests.

Every file is parsed on its own (an error names the file and the rule's title); the rules of all files
are then put into one pySigma collection so correlation rules find the rules they name. A rule that
cannot be evaluated (an unknown log source, a feature the compiler lacks, a pySigma error) is listed in
`RuleSet.unsupported` with the reason; none is silently dropped.

shareguard's own metadata rides in each rule's custom attribute `shareguard` (see rules/builtin/):
`id` (the finding's rule id), `duties` (the customer duties it serves), `remediation`, `response`
(incident response steps), `alert: false` (a base rule only correlations use), `tests` (events it must
and must not match, run by the test suite). A rule without it (SigmaHQ's) becomes `sigma:<uuid>` under LOGGING-C-02.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from importlib import resources
from importlib.resources.abc import Traversable
from pathlib import Path
from typing import Any

from sigma.collection import SigmaCollection
from sigma.correlations import SigmaCorrelationCondition, SigmaCorrelationRule, SigmaCorrelationType
from sigma.exceptions import SigmaError
from sigma.rule import SigmaRule

from shareguard.core.severity import Severity
from shareguard.logs.compiler import Compiler, Matcher, Unsupported
from shareguard.logs.events import LogKind
from shareguard.logs.fields import FieldMap, field_maps
from shareguard.logs.names import MONITORING_DUTY as MONITORING_DUTY  # re-exported

MAX_RULE_BYTES = 1024 * 1024
MAX_RULE_FILES = 20_000

_LEVELS = {
    "informational": Severity.INFO,
    "low": Severity.LOW,
    "medium": Severity.MEDIUM,
    "high": Severity.HIGH,
    "critical": Severity.CRITICAL,
}


@dataclass(frozen=True)
class RuleInfo:
    """What a finding and an incident say about the rule that fired."""

    id: str
    sigma_id: str
    title: str
    severity: Severity
    duties: tuple[str, ...]
    description: str
    remediation: str
    response: tuple[str, ...]
    tags: tuple[str, ...]
    origin: str
    references: tuple[str, ...] = ()


@dataclass(frozen=True)
class CompiledRule:
    info: RuleInfo
    kind: LogKind
    match: Matcher
    index: tuple[str, frozenset[str]] | None
    """(index field, the lower-cased values of it the rule can match); None: any event of its log."""
    alerts: bool = True
    """False for a rule only a correlation uses (`generate: false`)."""


@dataclass(frozen=True)
class Correlation:
    """A Sigma correlation rule over compiled base rules."""

    info: RuleInfo
    type: str
    rules: tuple[str, ...]
    """Ids (`RuleInfo.id`) of the base rules, in order (the order counts for `temporal_ordered`)."""
    group_by: tuple[str, ...]
    seconds: int
    op: str
    count: float
    value_field: str | None
    kind: LogKind


@dataclass(frozen=True)
class UnsupportedRule:
    origin: str
    title: str
    reason: str

    def one_line(self) -> str:
        return f"{self.origin}: {self.title}: {self.reason}"


@dataclass
class RuleSet:
    rules: list[CompiledRule] = field(default_factory=list)
    correlations: list[Correlation] = field(default_factory=list)
    unsupported: list[UnsupportedRule] = field(default_factory=list)

    def count(self, kind: LogKind) -> int:
        """Rules (base rules that alert, and correlations) evaluated on events of `kind`."""
        return sum(1 for r in self.rules if r.kind is kind and r.alerts) + sum(
            1 for c in self.correlations if c.kind is kind
        )

    def infos_of(self, kind: LogKind) -> Iterator[RuleInfo]:
        """The rules that can alert on events of `kind`."""
        for r in self.rules:
            if r.alerts and r.kind is kind:
                yield r.info
        for c in self.correlations:
            if c.kind is kind:
                yield c.info

    def infos(self) -> Iterator[RuleInfo]:
        for r in self.rules:
            if r.alerts:
                yield r.info
        for c in self.correlations:
            yield c.info


def builtin_rule_files() -> list[Traversable]:
    """The rule pack shipped in the package (rules/builtin/*.yml)."""
    root = resources.files("shareguard.logs").joinpath("rules", "builtin")
    return sorted(_walk(root), key=lambda t: t.name)


def _walk(root: Traversable) -> Iterator[Traversable]:
    for item in root.iterdir():
        if item.is_dir():
            yield from _walk(item)
        elif item.name.endswith((".yml", ".yaml")):
            yield item


def rule_files(folder: Path) -> list[Path]:
    """Sigma files under a folder (any depth), in a stable order."""
    files = sorted(p for p in folder.rglob("*") if p.suffix in (".yml", ".yaml") and p.is_file())
    return files[:MAX_RULE_FILES]


def merge(base: RuleSet, extra: RuleSet) -> RuleSet:
    """`base` plus `extra`; a rule of `extra` with the id of one in `base` is listed as not evaluated."""
    merged = RuleSet(list(base.rules), list(base.correlations), list(base.unsupported))
    known = {r.info.id for r in merged.rules} | {c.info.id for c in merged.correlations}
    for r in extra.rules:
        if r.info.id in known:
            merged.unsupported.append(UnsupportedRule(r.info.origin, r.info.title, "same id as a rule loaded before"))
            continue
        known.add(r.info.id)
        merged.rules.append(r)
    merged.correlations.extend(extra.correlations)
    merged.unsupported.extend(extra.unsupported)
    return merged


def load(sources: Iterable[Path | Traversable], *, builtin: bool = False, label: str | None = None) -> RuleSet:
    """Parse and compile every rule in `sources` (files); `label` names their origin (`sigmahq:<file>`)."""
    out = RuleSet()
    parsed: list[tuple[str, Any]] = []
    for src in sources:
        origin = f"{label}:{src.name}" if label else _origin(src, builtin)
        try:
            raw = src.read_bytes()
        except OSError as exc:
            out.unsupported.append(UnsupportedRule(origin, "-", f"cannot read: {exc}"))
            continue
        if len(raw) > MAX_RULE_BYTES:
            out.unsupported.append(UnsupportedRule(origin, "-", f"over the {MAX_RULE_BYTES}-byte budget"))
            continue
        try:
            collection = SigmaCollection.from_yaml(raw.decode("utf-8", errors="replace"), collect_errors=True)
        except (SigmaError, ValueError, TypeError, RecursionError) as exc:
            out.unsupported.append(UnsupportedRule(origin, "-", f"not a valid Sigma file: {_first_line(exc)}"))
            continue
        except Exception as exc:  # pySigma or PyYAML on hostile YAML: the file, not the run
            out.unsupported.append(
                UnsupportedRule(origin, "-", f"not a valid Sigma file: {type(exc).__name__}: {_first_line(exc)}")
            )
            continue
        for err in collection.errors:
            out.unsupported.append(UnsupportedRule(origin, "-", _first_line(err)))
        for rule in collection.rules:
            parsed.append((origin, rule))
    _compile_all(parsed, out)
    return out


def _compile_all(parsed: list[tuple[str, Any]], out: RuleSet) -> None:
    maps = field_maps()
    compilers = {kind: Compiler(fm) for kind, fm in maps.items()}
    by_ref: dict[str, CompiledRule] = {}
    correlations: list[tuple[str, SigmaCorrelationRule]] = []
    seen: set[str] = set()
    for origin, rule in parsed:
        if isinstance(rule, SigmaCorrelationRule):
            correlations.append((origin, rule))
            continue
        if not isinstance(rule, SigmaRule):
            out.unsupported.append(UnsupportedRule(origin, str(getattr(rule, "title", "-")), "not a detection rule"))
            continue
        if rule.errors:
            out.unsupported.append(UnsupportedRule(origin, rule.title, _first_line(rule.errors[0])))
            continue
        fm = _field_map(rule, maps)
        if fm is None:
            ls = rule.logsource
            out.unsupported.append(
                UnsupportedRule(
                    origin,
                    rule.title,
                    f"log source product={ls.product} service={ls.service} category={ls.category} is not ingested "
                    "(CloudTrail, Cloud Audit Logs and Kubernetes audit are)",
                )
            )
            continue
        try:
            compiled = _compile_rule(rule, fm, compilers[fm.kind], origin)
        except Unsupported as exc:
            out.unsupported.append(UnsupportedRule(origin, rule.title, f"unsupported: {exc}"))
            continue
        except SigmaError as exc:
            out.unsupported.append(UnsupportedRule(origin, rule.title, _first_line(exc)))
            continue
        if compiled.info.id in seen:
            out.unsupported.append(UnsupportedRule(origin, rule.title, f"duplicate rule id {compiled.info.id}"))
            continue
        seen.add(compiled.info.id)
        out.rules.append(compiled)
        for ref in (str(rule.id) if rule.id else None, rule.name):
            if ref:
                by_ref[ref] = compiled
    quiet: set[str] = set()
    for origin, corr in correlations:
        try:
            compiled_corr = _correlation(corr, by_ref, origin)
        except Unsupported as exc:
            out.unsupported.append(UnsupportedRule(origin, corr.title, f"unsupported correlation: {exc}"))
            continue
        out.correlations.append(compiled_corr)
        if not corr.generate:
            quiet.update(compiled_corr.rules)
    if quiet:
        out.rules = [
            CompiledRule(r.info, r.kind, r.match, r.index, alerts=False) if r.info.id in quiet else r for r in out.rules
        ]


def _field_map(rule: SigmaRule, maps: dict[LogKind, FieldMap]) -> FieldMap | None:
    ls = rule.logsource
    for fm in maps.values():
        if fm.selects(ls.product, ls.service, ls.category):
            return fm
    return None


def _compile_rule(rule: SigmaRule, fm: FieldMap, compiler: Compiler, origin: str) -> CompiledRule:
    nodes = [compiler.compile(cond.parsed) for cond in rule.detection.parsed_condition]
    if not nodes:
        raise Unsupported("no condition")
    node = nodes[0] if len(nodes) == 1 else compiler._or(nodes)
    meta = rule.custom_attributes.get("shareguard") if isinstance(rule.custom_attributes, dict) else None
    alerts = not (isinstance(meta, dict) and meta.get("alert") is False)
    index = next(((path, node.index[path]) for path in fm.index if node.index.get(path)), None)
    return CompiledRule(_info(rule, origin, fm), fm.kind, node.match, index, alerts)


def _info(rule: Any, origin: str, fm: FieldMap | None) -> RuleInfo:
    meta = rule.custom_attributes.get("shareguard") if isinstance(rule.custom_attributes, dict) else None
    meta = meta if isinstance(meta, dict) else {}
    sigma_id = str(rule.id) if rule.id else (rule.name or rule.title)
    level = rule.level.name.lower() if rule.level is not None else ""
    duties = tuple(str(d) for d in meta.get("duties") or ())
    if MONITORING_DUTY not in duties:
        duties = (MONITORING_DUTY, *duties)
    fps = "; ".join(str(f) for f in rule.falsepositives or ())
    author = str(rule.author or "").strip()
    credit = f" Sigma rule by {author} (Detection Rule License 1.1)." if author and not meta else ""
    remediation = str(meta.get("remediation") or "").strip() or (
        "Investigate the event: confirm who made the call and why; if it was not expected, revoke the "
        "principal's credentials and undo the change." + (f" Known false positives: {fps}." if fps else "")
    )
    response = tuple(str(s) for s in meta.get("response") or ()) or (
        "Confirm with the principal's owner whether the activity was expected.",
        "If not: disable the principal's credentials, undo the change, and preserve the logs.",
    )
    return RuleInfo(
        id=str(meta.get("id") or f"sigma:{sigma_id}"),
        sigma_id=sigma_id,
        title=rule.title,
        severity=_LEVELS.get(level, Severity.UNKNOWN),
        duties=duties,
        description=(rule.description or "").strip() + credit,
        remediation=remediation,
        response=response,
        tags=tuple(str(t) for t in rule.tags),
        origin=origin,
        references=tuple(str(r) for r in rule.references or ()),
    )


def _correlation(corr: SigmaCorrelationRule, by_ref: dict[str, CompiledRule], origin: str) -> Correlation:
    kind_name = corr.type.name.lower() if isinstance(corr.type, SigmaCorrelationType) else str(corr.type)
    if kind_name not in ("event_count", "value_count", "temporal", "temporal_ordered"):
        raise Unsupported(f"type {kind_name}")
    cond = corr.condition
    if not isinstance(cond, SigmaCorrelationCondition):
        raise Unsupported("extended (boolean) correlation conditions")
    op = cond.op.name
    refs: list[CompiledRule] = []
    for ref in corr.rules or ():
        target = by_ref.get(str(ref.reference))
        if target is None:
            raise Unsupported(f"references rule {ref.reference}, which is not loaded or not supported")
        refs.append(target)
    kinds = {r.kind for r in refs}
    if len(kinds) != 1:
        raise Unsupported("base rules of more than one log source")
    if len(corr.aliases):
        raise Unsupported("field aliases")
    value_field = cond.fieldref if isinstance(cond.fieldref, str) else None
    if kind_name == "value_count" and value_field is None:
        raise Unsupported("value_count without one field")
    return Correlation(
        info=_info(corr, origin, None),
        type=kind_name,
        rules=tuple(r.info.id for r in refs),
        group_by=tuple(corr.group_by or ()),
        seconds=corr.timespan.seconds,
        op=op.lower(),
        count=float(cond.count),
        value_field=value_field,
        kind=next(iter(kinds)),
    )


def _origin(src: Path | Traversable, builtin: bool) -> str:
    if builtin:
        return f"builtin:{src.name}"
    return str(src)


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__
