"""User rules without code: YAML files of CEL expressions over the normalised posture resources.

    # rules/no-latest.yaml  (load with `shareguard config PATH --rules rules/`)
    rules:
      - id: ACME-001
        title: Training images must come from our registry
        severity: high
        control_ids: [KUBERNETES-C-02]
        remediation: Push the image to europe-docker.pkg.dev/acme/ml and use it from there.
        resource_types: [k8s.workload]
        field: containers                      # optional: where findings point (attribute path)
        condition: >-                          # true when the resource FAILS
          resource.attributes.containers.exists(c, !c.image.startsWith("europe-docker.pkg.dev/acme/"))

The expression sees `resource` = {type, name, file, line, raw_type, source_format, attributes}.
Every file is validated before the scan (unknown keys, missing fields, unknown control ids,
duplicate ids, CEL syntax) with one-line `file:line: message` errors; expressions are compiled
once. Evaluation has a budget: the expression's size is bounded at load time and each evaluation
is interrupted after `EVAL_SECONDS` (on the main thread) — a rule that runs over is disabled for
the rest of the run with a warning. A CEL evaluation error (e.g. a missing attribute without
`has()`) means "does not apply", as in Kubernetes' CEL admission rules, and is reported once per rule.
"""

from __future__ import annotations

import signal
import threading
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from shareguard.core.context import ScanContext
from shareguard.core.errors import ConfigError, ParseError, ShareguardError
from shareguard.core.files import read_regular_text
from shareguard.core.rules import RuleMeta
from shareguard.core.severity import Severity
from shareguard.posture.check import resource_key
from shareguard.posture.model import PostureResource, Violation
from shareguard.posture.parsers.yaml_safe import Located, load_one

"""The scan option that carries a loaded `CelRuleSet` to the CEL check."""
EVAL_SECONDS = 0.5
MAX_EXPRESSION_CHARS = 8192
MAX_RESOURCE_NODES = 200_000
_MAX_RULE_FILE_BYTES = 4 * 1024 * 1024
_REQUIRED = ("id", "title", "severity", "control_ids", "remediation", "resource_types", "condition")
_OPTIONAL = ("description", "cli", "terraform", "references", "field", "tags")


@dataclass
class CelRule:
    meta: RuleMeta
    resource_types: frozenset[str]
    condition: str
    program: Any
    origin: str
    line: int
    field_path: str | None = None


@dataclass
class CelRuleSet:
    """Compiled user rules of one run, plus what the run learnt about them (per-run, not global)."""

    rules: list[CelRule]
    disabled: set[str] = field(default_factory=set)
    reported: set[str] = field(default_factory=set)

    def metas(self) -> dict[str, RuleMeta]:
        return {r.meta.id: r.meta for r in self.rules}


# --- loading ---------------------------------------------------------------------------------------


def load_rule_dirs(
    dirs: Iterable[Path], *, known_ids: Iterable[str] = (), controls: Iterable[str] | None = None
) -> CelRuleSet:
    """Every `*.yaml`/`*.yml` file of the directories (or the files themselves), validated and compiled."""
    if controls is None:
        from shareguard.catalog import load_catalog

        controls = load_catalog().controls.keys()
    import celpy  # only runs that use --rules pay for importing the CEL runtime

    valid_controls = frozenset(controls)
    seen: dict[str, str] = {rid: "built-in rules" for rid in known_ids}
    env = celpy.Environment()
    rules: list[CelRule] = []
    for d in dirs:
        if d.is_file():
            files = [d]
        elif d.is_dir():
            files = sorted(p for p in d.rglob("*") if p.suffix in (".yaml", ".yml") and p.is_file())
        else:
            raise ConfigError("rules directory not found", path=str(d))
        for f in files:
            rules.extend(load_rule_file(f, env, seen, valid_controls))
    return CelRuleSet(rules)


def load_rule_file(path: Path, env: Any, seen: dict[str, str], controls: frozenset[str]) -> list[CelRule]:
    origin = str(path)
    try:
        text = read_regular_text(path, _MAX_RULE_FILE_BYTES)
    except ShareguardError as exc:  # a FIFO, a device, over 4 MiB, not UTF-8
        raise ConfigError(f"cannot read rule file: {exc.message}", path=origin) from None
    try:
        doc = load_one(text, origin)
    except ParseError as exc:
        raise ConfigError(exc.message, path=origin, line=exc.line) from None
    value = doc.value
    prefix = ""
    if isinstance(value, dict):
        if set(value) != {"rules"}:
            raise ConfigError("expected a list of rules or a mapping with only `rules:`", path=origin, line=doc.line)
        value, prefix = value["rules"], "rules"
    if value is None:
        return []
    if not isinstance(value, list):
        raise ConfigError("expected a list of rules", path=origin, line=doc.line)
    return [_rule(item, f"{prefix}[{i}]", doc, origin, env, seen, controls) for i, item in enumerate(value)]


def _rule(
    item: Any, at: str, doc: Located, origin: str, env: Any, seen: dict[str, str], controls: frozenset[str]
) -> CelRule:
    line = doc.line_of(at) or 1

    def err(msg: str, key: str | None = None) -> ConfigError:
        return ConfigError(msg, path=origin, line=doc.line_of(f"{at}.{key}") if key else line)

    if not isinstance(item, dict):
        raise err("each rule must be a mapping")
    unknown = sorted(set(item) - set(_REQUIRED) - set(_OPTIONAL))
    if unknown:
        raise err(f"unknown key {unknown[0]!r} (allowed: {', '.join((*_REQUIRED, *_OPTIONAL))})", unknown[0])
    for key in _REQUIRED:
        if item.get(key) in (None, "", []):
            raise err(f"rule needs `{key}`")
    rid = item["id"]
    if not isinstance(rid, str) or not rid.strip() or any(c.isspace() for c in rid):
        raise err("`id` must be a string without spaces", "id")
    if rid in seen:
        raise err(f"duplicate rule id {rid} (already in {seen[rid]})", "id")
    for key in ("title", "remediation", "condition"):
        if not isinstance(item[key], str):
            raise err(f"`{key}` must be a string", key)
    try:
        severity = Severity.parse(str(item["severity"]))
    except ShareguardError as exc:
        raise err(exc.message, "severity") from None
    ids = item["control_ids"]
    if isinstance(ids, str):
        ids = [ids]
    if not isinstance(ids, list) or not all(isinstance(c, str) for c in ids):
        raise err("`control_ids` must be a list of control ids", "control_ids")
    bad = [c for c in ids if c not in controls]
    if bad:
        raise err(f"unknown control id {bad[0]} (see `shareguard controls list`)", "control_ids")
    types = item["resource_types"]
    if isinstance(types, str):
        types = [types]
    if not isinstance(types, list) or not all(isinstance(t, str) and t for t in types):
        raise err("`resource_types` must be a list of resource types (or `*`)", "resource_types")
    condition = item["condition"]
    if len(condition) > MAX_EXPRESSION_CHARS:
        raise err(f"`condition` is over {MAX_EXPRESSION_CHARS} characters", "condition")
    try:
        program = env.program(env.compile(condition))
    except Exception as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise err(f"invalid CEL in `condition`: {first}", "condition") from None
    field_path = item.get("field")
    if field_path is not None and not isinstance(field_path, str):
        raise err("`field` must be an attribute path string", "field")
    refs = item.get("references") or ()
    try:
        meta = RuleMeta(
            id=rid,
            title=item["title"],
            severity=severity,
            control_ids=tuple(ids),
            description=item.get("description") or "",
            remediation=item["remediation"],
            cli=item.get("cli"),
            terraform=item.get("terraform"),
            references=tuple(refs) if isinstance(refs, list) else (str(refs),),
            tags=("user-rule", *(item.get("tags") or ())),
        )
    except ValueError as exc:
        raise err(f"invalid rule: {str(exc).splitlines()[0]}") from None
    seen[rid] = f"{origin}:{line}"
    return CelRule(meta, frozenset(types), condition, program, origin, line, field_path)


# --- evaluation ------------------------------------------------------------------------------------


class _Overrun(BaseException):
    """A BaseException: the CEL evaluator turns the exceptions it meets into CEL error values, and an
    `Exception` raised by the alarm inside a macro was swallowed there (the rule then ran for ever)."""


@contextmanager
def _time_limit(seconds: float) -> Iterator[None]:
    """Interrupt a runaway evaluation; only possible on the main thread (elsewhere: measured after)."""
    if threading.current_thread() is not threading.main_thread() or not hasattr(signal, "setitimer"):
        yield
        return

    armed = [True]

    def _raise(signum: int, frame: Any) -> None:
        if armed[0]:
            raise _Overrun

    old = signal.signal(signal.SIGALRM, _raise)
    # Repeats until cleared: should a library still swallow one interruption, the next one comes.
    signal.setitimer(signal.ITIMER_REAL, seconds, 0.05)
    try:
        yield
    finally:
        while True:  # an alarm landing inside this clean-up must not skip the rest of it
            try:
                armed[0] = False
                signal.setitimer(signal.ITIMER_REAL, 0)
                signal.signal(signal.SIGALRM, old)
                break
            except _Overrun:
                continue


def to_cel(value: Any, budget: list[int] | None = None) -> Any:
    """Python (JSON-like) values → CEL values; anything else becomes its string form."""
    from celpy import celtypes

    budget = budget if budget is not None else [MAX_RESOURCE_NODES]
    budget[0] -= 1
    if budget[0] < 0:
        raise _Overrun
    if value is None:
        return None
    if isinstance(value, bool):
        return celtypes.BoolType(value)
    if isinstance(value, int):
        return celtypes.IntType(value)
    if isinstance(value, float):
        return celtypes.DoubleType(value)
    if isinstance(value, str):
        return celtypes.StringType(value)
    if isinstance(value, dict):
        return celtypes.MapType({celtypes.StringType(str(k)): to_cel(v, budget) for k, v in value.items()})
    if isinstance(value, list | tuple | set | frozenset):
        return celtypes.ListType([to_cel(v, budget) for v in value])
    return celtypes.StringType(str(value))


def resource_activation(res: PostureResource) -> dict[str, Any]:
    doc = {
        "type": res.type,
        "name": res.name,
        "file": res.file,
        "line": res.line or 0,
        "raw_type": res.raw_type,
        "source_format": res.source_format,
        "attributes": res.attributes,
    }
    return {"resource": to_cel(doc)}


@dataclass(frozen=True)
class CelOptions:
    """The scan's user CEL rules (`config --rules DIR`)."""

    rules: CelRuleSet | None = None


@dataclass(frozen=True)
class CelCheck:
    """Runs the run's user CEL rules (`CelOptions.rules`) over every resource type.

    Each rule records what it judged itself: a condition that evaluates to false on a resource of the rule's
    `resource_types` is an evaluation there (user rules have no `applies_to`; their types are their scope)."""

    name: str = "cel"
    types: frozenset[str] = frozenset({"*"})

    def check(self, resource: PostureResource, ctx: ScanContext) -> Iterable[Violation]:
        ruleset = ctx.options.get(CelOptions).rules
        if ruleset is None or not ruleset.rules:
            return
        rules = [
            r
            for r in ruleset.rules
            if r.meta.id not in ruleset.disabled and ("*" in r.resource_types or resource.type in r.resource_types)
        ]
        if not rules:
            return
        from celpy import celtypes

        try:
            activation = resource_activation(resource)
        except _Overrun:
            ctx.warn(
                resource.file,
                f"{resource.name}: too large for user CEL rules (over {MAX_RESOURCE_NODES} values)",
                "posture.cel",
            )
            return
        for rule in rules:
            started = time.monotonic()
            try:
                with _time_limit(EVAL_SECONDS):
                    result = rule.program.evaluate(activation)
            except _Overrun:
                result = None
            except Exception as exc:
                if rule.meta.id not in ruleset.reported:
                    ruleset.reported.add(rule.meta.id)
                    ctx.warn(
                        f"{rule.origin}:{rule.line}",
                        f"rule {rule.meta.id} did not evaluate on {resource.file}: {_first_line(exc)}",
                        "posture.cel",
                    )
                continue
            if time.monotonic() - started > EVAL_SECONDS or result is None:
                ruleset.disabled.add(rule.meta.id)
                ctx.warn(
                    f"{rule.origin}:{rule.line}",
                    f"rule {rule.meta.id} exceeded its {EVAL_SECONDS}s budget; disabled",
                    "posture.cel",
                )
                continue
            if isinstance(result, celtypes.BoolType) and bool(result):
                yield Violation(rule.meta.id, field_path=rule.field_path, meta=rule.meta)
            elif isinstance(result, celtypes.BoolType):
                # Evaluated on a resource of its types and false: the rule passed here (its duties can pass).
                # A runtime error above means "does not apply" and evaluates nothing.
                ctx.coverage.evaluated(rule.meta.id, rule.meta.control_ids, resource_key(resource))
            elif not isinstance(result, celtypes.BoolType) and rule.meta.id not in ruleset.reported:
                ruleset.reported.add(rule.meta.id)
                ctx.warn(
                    f"{rule.origin}:{rule.line}",
                    f"rule {rule.meta.id}: condition gave {type(result).__name__}, not a bool",
                    "posture.cel",
                )


def _first_line(exc: BaseException) -> str:
    text = str(exc.args[0]) if exc.args else str(exc)
    return text.strip().splitlines()[0] if text.strip() else type(exc).__name__
