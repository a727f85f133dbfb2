"""Registers the posture capability: every parser module in `posture.parsers`, every check module in
`posture.checks`, and every rule-metadata file in `posture/rules/*.yaml`.

Conventions that keep this file unchanged as formats and checks are added:
- a parser module exposes `FORMAT: FormatSpec` (duties are not listed per format: they are derived from
  the rule files of the check families that examined a resource, see PostureAnalyzer.family_rules);
- a check module exposes `CHECKS: tuple[PostureCheck, ...]`;
- a rules file is a YAML list of `RuleMeta`.
"""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import cache
from importlib import resources

from shareguard.core.analyzer import FileAnalyzer, PostAnalyzer, RuleProvider
from shareguard.core.context import ScanContext
from shareguard.core.entry import FileEntry
from shareguard.core.errors import CatalogError
from shareguard.core.registry import Registries
from shareguard.core.rules import RuleMeta, load_rules_yaml
from shareguard.posture import checks as checks_pkg
from shareguard.posture import parsers as parsers_pkg
from shareguard.posture.bucket_policies import BucketPolicies
from shareguard.posture.check import PostureAnalyzer, PostureCheck, Selector, parse_selector
from shareguard.posture.model import PostureResource

VERSION = "1"


@dataclass(frozen=True)
class FormatSpec:
    name: str
    """Short format name; the analyzer is registered as `posture.<name>`."""
    claim: Callable[[FileEntry], bool]
    parse: Callable[[FileEntry, ScanContext], list[PostureResource]]
    families: tuple[str, ...] = ()
    """Check families whose duties a file of this format can touch (empty: any) — the duties a file that
    cannot be parsed leaves incomplete."""


@cache
def rules_by_family() -> dict[str, dict[str, RuleMeta]]:
    """Rule metadata per family: `posture/rules/<family>.yaml` holds the rules of the checks named `<family>[.x]`."""
    out: dict[str, dict[str, RuleMeta]] = {}
    base = resources.files("shareguard.posture").joinpath("rules")
    for f in sorted(base.iterdir(), key=lambda t: t.name):
        if not f.name.endswith((".yaml", ".yml")):
            continue
        out[f.name.rsplit(".", 1)[0]] = load_rules_yaml(f.read_text(encoding="utf-8"), f"posture/rules/{f.name}")
    return out


@cache
def posture_rules() -> dict[str, RuleMeta]:
    out: dict[str, RuleMeta] = {}
    for family, rules in rules_by_family().items():
        for rid, meta in rules.items():
            if rid in out:
                raise CatalogError(f"duplicate rule id {rid}", path=f"posture/rules/{family}.yaml")
            out[rid] = meta
    return out


@cache
def family_rules() -> dict[str, tuple[tuple[RuleMeta, tuple[Selector, ...]], ...]]:
    """Each family's rules with their parsed `applies_to` (what a family that examined a resource evaluated)."""
    return {
        family: tuple((meta, tuple(parse_selector(t) for t in meta.applies_to)) for meta in rules.values())
        for family, rules in rules_by_family().items()
    }


@cache
def scope_controls(families: tuple[str, ...]) -> tuple[str, ...]:
    """The duties of these families' rules (all families when empty): what an unparsable file leaves incomplete."""
    by_family = rules_by_family()
    chosen = families or tuple(by_family)
    return tuple(sorted({cid for f in chosen for meta in by_family.get(f, {}).values() for cid in meta.control_ids}))


class _PostureRules:
    name = "posture"

    def rules(self) -> Iterable[RuleMeta]:
        return posture_rules().values()


def _modules(pkg: object) -> list[str]:
    path = getattr(pkg, "__path__", [])
    prefix = getattr(pkg, "__name__", "") + "."
    return sorted(m.name for m in pkgutil.iter_modules(path, prefix) if not m.name.rsplit(".", 1)[-1].startswith("_"))


def register(registries: Registries) -> None:
    registries.of(RuleProvider).add("posture", _PostureRules())  # type: ignore[type-abstract]
    bucket_policies = BucketPolicies(rules=posture_rules)
    registries.of(PostAnalyzer).add(bucket_policies.name, bucket_policies)  # type: ignore[type-abstract]
    checks = registries.of(PostureCheck)  # type: ignore[type-abstract]
    for mod_name in _modules(checks_pkg):
        for chk in getattr(importlib.import_module(mod_name), "CHECKS", ()):
            checks.add(chk.name, chk)
    analyzers = registries.of(FileAnalyzer)  # type: ignore[type-abstract]
    for mod_name in _modules(parsers_pkg):
        spec: FormatSpec | None = getattr(importlib.import_module(mod_name), "FORMAT", None)
        if spec is None:
            continue
        analyzers.add(
            f"posture.{spec.name}",
            PostureAnalyzer(
                name=f"posture.{spec.name}",
                version=VERSION,
                controls=scope_controls(spec.families),
                family_rules=family_rules,
                claim=spec.claim,
                parse=spec.parse,
                checks=checks,
                rules=posture_rules,
            ),
        )
