"""Attribute rules as data: one YAML table per service (`posture/attributes/<service>.yaml`), one evaluator.

A rule names a resource kind (canonical type; the table's `resources:` says how Terraform, CloudFormation and
describe output spell it), the attribute paths that hold the setting in the snake_case view (alternatives, first
found wins: Terraform blocks and CloudFormation properties often differ), what a secure value is (`expect`),
and what a *missing* attribute means (`missing: fail` where the provider's default is insecure, with that default
in `default`). Everything else (title, severity, duties, remediation, references) is ordinary rule metadata.

The evaluator never guesses: a value Terraform computes at apply time, an unresolved variable or intrinsic is an
`Unresolved` outcome (the duty is incomplete), never a pass. Rules are compiled once per process and selected by
resource type.

`expect` forms (exactly one key):
  `present: true`          set to a non-empty value (an expression counts: it names something)
  `is: true|false`         a boolean (`"true"`, `"Enabled"`… accepted as the provider does)
  `equals: X`              equal to X (strings case-insensitively)
  `one_of: [..]` / `not_one_of: [..]`
  `matches: RE` / `not_matches: RE`   (Python regular expression, searched)
  `contains: X` / `not_contains: X`   a list (or comma-separated string) that holds / lacks X
  `min_version: "1.30"`    a dotted version at least this one
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from shareguard.core.errors import CatalogError
from shareguard.core.rules import RuleMeta
from shareguard.core.severity import Severity
from shareguard.posture.attribute_types import attribute_tables, resource_kinds
from shareguard.posture.canonical import pick, raw_types_of
from shareguard.posture.model import PostureResource, Unresolved, Violation
from shareguard.posture.parsers._common import as_bool, is_unknown

_OPS = frozenset(
    {
        "present",
        "is",
        "equals",
        "one_of",
        "not_one_of",
        "matches",
        "not_matches",
        "contains",
        "not_contains",
        "min_version",
    }
)
_INDEX = re.compile(r"\[\d+\]")


class Condition(BaseModel):
    """`when:` the rule is judged only where this attribute holds (e.g. async output only when async is set)."""

    model_config = ConfigDict(frozen=True, extra="forbid")
    path: tuple[str, ...]
    expect: dict[str, Any] = Field(default_factory=lambda: {"present": True})


class AttributeRule(BaseModel):
    """One row of an attribute rule table (metadata + what to look at + what is secure)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    id: str
    type: tuple[str, ...]
    """Canonical resource type(s) the rule judges."""
    title: str
    severity: Severity
    control_ids: tuple[str, ...] = Field(min_length=1)
    path: tuple[str, ...] = Field(min_length=1)
    """Attribute paths in the snake_case view, dotted; the first one found is judged."""
    expect: dict[str, Any]
    missing: Literal["fail", "pass"]
    """What an absent attribute means: `fail` where the provider's default is insecure."""
    default: str = ""
    """The provider's default (shown in the evidence of a missing attribute; required when `missing: fail`)."""
    when: Condition | None = None
    unless: Condition | tuple[Condition, ...] | None = None
    """The rule is not judged where this holds (e.g. workload identity on an Autopilot cluster, always on); a
    list: where any of them holds (network policy enforced by Autopilot or by Dataplane V2)."""
    only: tuple[str, ...] = ()
    """Raw types the paths are written for (empty: every spelling the tables list for the type)."""
    description: str = ""
    remediation: str
    cli: str | None = None
    terraform: str | None = None
    references: tuple[str, ...] = ()
    checkov: tuple[str, ...] = ()
    """Checkov check ids covering the same setting (docs/config.md coverage table)."""

    @field_validator("type", "path", "only", "checkov", "references", mode="before")
    @classmethod
    def _one_or_many(cls, value: Any) -> Any:
        return (value,) if isinstance(value, str) else value

    @field_validator("expect")
    @classmethod
    def _one_op(cls, value: dict[str, Any]) -> dict[str, Any]:
        if len(value) != 1 or next(iter(value)) not in _OPS:
            raise ValueError(f"expect needs exactly one of {sorted(_OPS)}")
        return value

    def meta(self) -> RuleMeta:
        return RuleMeta(
            id=self.id,
            title=self.title,
            severity=self.severity,
            control_ids=self.control_ids,
            description=self.description,
            remediation=self.remediation,
            cli=self.cli,
            terraform=self.terraform,
            references=self.references,
            applies_to=tuple(applies_to(self)),
        )

    def raw_types(self) -> tuple[str, ...]:
        """The spellings this rule judges (its `only`, else every one the tables list for its types)."""
        if self.only:
            return self.only
        kinds = resource_kinds()
        return tuple(r for t in self.type for raws in kinds.get(t, {}).values() for r in raws)


def registered_raw_types(ctype: str) -> set[str]:
    """Every raw type any parser maps to `ctype` (the canonical table and the attribute tables)."""
    out = raw_types_of(ctype)
    for raws in resource_kinds().get(ctype, {}).values():
        out.update(raws)
    return out


def applies_to(rule: AttributeRule) -> Iterator[str]:
    """`applies_to` selectors: the whole type where the rule models every spelling of it, else one selector
    per spelling it models (a spelling it does not model is not evaluated: neither pass nor fail)."""
    mine = set(rule.raw_types())
    for ctype in rule.type:
        spellings = registered_raw_types(ctype)
        if spellings <= mine:
            yield ctype
        else:
            yield from (f"{ctype}[raw_type={r}]" for r in sorted(spellings & mine))


@cache
def attribute_rules() -> dict[str, AttributeRule]:
    """Every rule of every table, by id."""
    out: dict[str, AttributeRule] = {}
    for name, doc in attribute_tables():
        origin = f"posture/attributes/{name}"
        for i, item in enumerate(doc["rules"]):
            try:
                rule = AttributeRule.model_validate(item)
            except ValidationError as exc:
                first = exc.errors()[0]
                where = ".".join(str(p) for p in first["loc"])
                raise CatalogError(f"rule #{i + 1}: {where}: {first['msg']}", path=origin) from None
            if rule.id in out:
                raise CatalogError(f"duplicate rule id {rule.id}", path=origin)
            if rule.missing == "fail" and not rule.default:
                raise CatalogError(f"{rule.id}: `missing: fail` needs the provider `default`", path=origin)
            out[rule.id] = rule
    return out


@cache
def attribute_rule_meta() -> dict[str, RuleMeta]:
    return {rid: rule.meta() for rid, rule in attribute_rules().items()}


@dataclass(frozen=True)
class _Compiled:
    rule: AttributeRule
    raw_types: frozenset[str]
    pattern: re.Pattern[str] | None


@cache
def rules_by_type() -> dict[str, tuple[_Compiled, ...]]:
    """Canonical type → its compiled rules (worked out once per process)."""
    out: dict[str, list[_Compiled]] = {}
    for rule in attribute_rules().values():
        op, arg = next(iter(rule.expect.items()))
        pattern = re.compile(str(arg)) if op in ("matches", "not_matches") else None
        compiled = _Compiled(rule, frozenset(rule.raw_types()), pattern)
        for ctype in rule.type:
            out.setdefault(ctype, []).append(compiled)
    return {k: tuple(v) for k, v in out.items()}


def judge(c: _Compiled, res: PostureResource) -> Violation | Unresolved | None:
    """One rule on one resource: a violation, an unresolved outcome, or None (secure / not applicable)."""
    rule = c.rule
    if res.raw_type not in c.raw_types:
        return None
    attrs = res.attributes
    if rule.when is not None:
        cond = pick(attrs, *rule.when.path)
        if cond is None:
            return None
        verdict = _test(rule.when.expect, cond[0], None)
        if verdict is None:
            return Unresolved(rule.id, cond[1], f"{cond[1]} is {_short(cond[0])}")
        if not verdict:
            return None
    unless = (rule.unless,) if isinstance(rule.unless, Condition) else rule.unless or ()
    undecided: Unresolved | None = None
    for exempt in unless:  # exempt where any holds; undecided where none holds and one is unknown
        cond = pick(attrs, *exempt.path)
        if cond is not None:
            verdict = _test(exempt.expect, cond[0], None)
            if verdict is None:
                undecided = undecided or Unresolved(rule.id, cond[1], f"{cond[1]} is {_short(cond[0])}")
            elif verdict:
                return None
    if undecided is not None:
        return undecided
    got = pick(attrs, *rule.path)
    if got is None:
        if rule.missing == "pass":
            return None
        return Violation(
            rule.id,
            field_path=rule.path[0],
            evidence=f"{rule.path[0]} not set (provider default: {rule.default})",
            line=res.line_of(rule.path[0]),
        )
    value, src = got
    verdict = _test(rule.expect, value, c.pattern)
    if verdict is None:
        return Unresolved(rule.id, src, f"{_INDEX.sub('', src)} is {_short(value)}")
    if verdict:
        return None
    return Violation(rule.id, field_path=src, evidence=f"{_INDEX.sub('', src)} = {_short(value)}", line=_line(res, src))


def _line(res: PostureResource, src: str) -> int | None:
    if src in res.lines:
        return res.lines[src]
    return res.line_of(_INDEX.sub("", src))


def _short(value: Any) -> str:
    text = str(value)
    return text if len(text) <= 120 else text[:117] + "..."


def _items(value: Any) -> list[Any]:
    """List items; a comma-separated string is split; `{type: X}` items (CloudFormation) count as X."""
    if isinstance(value, str):
        return [s.strip() for s in value.split(",") if s.strip()]
    items = list(value) if isinstance(value, list | tuple) else [value]
    return [i["type"] if isinstance(i, dict) and "type" in i else i for i in items]


def _version(text: str) -> tuple[int, ...] | None:
    m = re.match(r"^\s*v?(\d+(?:\.\d+)*)", text)
    return tuple(int(p) for p in m.group(1).split(".")) if m else None


def _test(expect: dict[str, Any], value: Any, pattern: re.Pattern[str] | None) -> bool | None:
    """True: secure; False: insecure; None: cannot be decided statically (an unknown value)."""
    op, arg = next(iter(expect.items()))
    if op == "present":
        empty = value is None or value == "" or value == [] or value == {}
        return (not empty) if arg else empty
    if op in ("contains", "not_contains"):
        items = _items(value)
        known_items = [i for i in items if not is_unknown(i)]
        hit = any(str(i).lower() == str(arg).lower() for i in known_items)
        if op == "contains":
            return True if hit else (None if len(known_items) < len(items) or is_unknown(value) else False)
        return False if hit else (None if len(known_items) < len(items) or is_unknown(value) else True)
    if is_unknown(value) or isinstance(value, dict | list):
        return None  # an expression, or a block where the provider takes a single value
    if op == "is":
        got = as_bool(value)
        return None if got is None else got is bool(arg)
    text = str(value).strip().lower() if not isinstance(value, bool) else str(value).lower()
    if op == "equals":
        return text == str(arg).lower() if not isinstance(arg, bool) else as_bool(value) is arg
    if op == "one_of":
        return text in {str(a).lower() for a in arg}
    if op == "not_one_of":
        return text not in {str(a).lower() for a in arg}
    if op in ("matches", "not_matches"):
        assert pattern is not None
        found = pattern.search(str(value)) is not None
        return found if op == "matches" else not found
    if op == "min_version":
        have, need = _version(text), _version(str(arg))
        return None if have is None or need is None else have >= need
    return None  # pragma: no cover - _OPS is validated at load
