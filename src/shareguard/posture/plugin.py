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
from dataclasses import dataclass, field
from functools import cache
from importlib import resources

from shareguard.core.analyzer import FileAnalyzer, PathHint, PostAnalyzer, RuleProvider
from shareguard.core.context import ScanContext
from shareguard.core.entry import FileEntry
from shareguard.core.errors import CatalogError
from shareguard.core.registry import Registries
from shareguard.core.rules import RuleMeta, load_rules_yaml
from shareguard.posture import checks as checks_pkg
from shareguard.posture import parsers as parsers_pkg
from shareguard.posture.attribute_rules import attribute_rule_meta
from shareguard.posture.bucket_policies import BucketPolicies
from shareguard.posture.bucket_public_access import BucketPublicAccess
from shareguard.posture.check import PostureAnalyzer, PostureCheck, Selector, parse_selector
from shareguard.posture.graph.eks_identity import EksIdentity
from shareguard.posture.graph.execution_roles import ExecutionRoles
from shareguard.posture.graph.key_users import KeyUsers
from shareguard.posture.k8s_token_use import K8sTokenUse
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
    path_hint: PathHint | None = None
    """A cheap superset of the paths `claim` may accept (see `core/analyzer.py`): where a source pays
    per file read (image layers, root filesystems) it asks only formats whose hint admits a path. It must
    never hide a path `claim` accepts (`tests/posture/test_format_path_hints.py`); None: every path."""
    required: Callable[[str, int], bool] | None = None
    """The path rule of `claim`, without content: False only where `claim` is False whatever the file
    holds, True where it may sniff content (the file is then read and `claim` asked). None: the source
    asks `claim` of a path-only entry instead."""


ANY_PATH = PathHint(prefixes=("",))
"""A hint that admits every path: formats that may claim extension-less files (a `Dockerfile`-like
name, `describe` output saved without `.json`) whose name can end in any character; their
`required` decides, one call per path outside installed-software trees."""


def suffix_hint(*endings: str) -> PathHint:
    """A hint admitting paths that end like one of `endings` in any letter case (formats compare
    suffixes lower-cased: `X.YAML` is a `.yaml`)."""
    return PathHint.ending(*endings, folded=True)


def name_of(path: str) -> str:
    """The last component of a `/`-separated path (as `FileEntry.name`)."""
    return path[path.rfind("/") + 1 :]


def suffix_of(name: str) -> str:
    """The lower-cased extension of a file name, `""` without one (as `FileEntry.suffix`)."""
    dot = name.rfind(".")
    return name[dot:].lower() if dot >= 0 else ""


@cache
def rules_by_family() -> dict[str, dict[str, RuleMeta]]:
    """Rule metadata per family: `posture/rules/<family>.yaml` holds the rules of the checks named `<family>[.x]`."""
    out: dict[str, dict[str, RuleMeta]] = {}
    base = resources.files("shareguard.posture").joinpath("rules")
    for f in sorted(base.iterdir(), key=lambda t: t.name):
        if not f.name.endswith((".yaml", ".yml")):
            continue
        out[f.name.rsplit(".", 1)[0]] = load_rules_yaml(f.read_text(encoding="utf-8"), f"posture/rules/{f.name}")
    out["attributes"] = attribute_rule_meta()  # the attribute rule tables (posture/attributes/*.yaml)
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


@dataclass
class HintedPostureAnalyzer(PostureAnalyzer):
    """A format's analyzer with its `FormatSpec.path_hint` and `required` (None: not declared, the
    dispatcher then asks every path / a path-only `claims`)."""

    path_hint: PathHint | None = field(default=None, kw_only=True)
    required: Callable[[str, int], bool] | None = field(default=None, kw_only=True)


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
    public_access = BucketPublicAccess(rules=posture_rules)  # STORAGE-001 for Terraform buckets, as CloudFormation
    registries.of(PostAnalyzer).add(public_access.name, public_access)  # type: ignore[type-abstract]
    token_use = K8sTokenUse(rules=posture_rules)  # K8S-030: a mounted token no RBAC binding of the scan uses
    registries.of(PostAnalyzer).add(token_use.name, token_use)  # type: ignore[type-abstract]
    execution_roles = ExecutionRoles(rules=posture_rules)  # IAM-011/012: an ML resource's role's policies
    registries.of(PostAnalyzer).add(execution_roles.name, execution_roles)  # type: ignore[type-abstract]
    key_users = KeyUsers(rules=posture_rules)  # KMS-004/005: a resource's key not rotated or open to all
    registries.of(PostAnalyzer).add(key_users.name, key_users)  # type: ignore[type-abstract]
    eks_identity = EksIdentity(rules=posture_rules)  # EKS-010: no IRSA / Pod Identity, pods get the node role
    registries.of(PostAnalyzer).add(eks_identity.name, eks_identity)  # type: ignore[type-abstract]
    # Loaded like the parser and check modules: it uses the Kubernetes parser and checks, which import this module.
    controller_pods = importlib.import_module("shareguard.posture.k8s_controller_pods").K8sControllerPods(
        rules=posture_rules
    )  # KServe / Kubeflow Trainer pods, merged with runtimes
    registries.of(PostAnalyzer).add(controller_pods.name, controller_pods)  # type: ignore[type-abstract]
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
            HintedPostureAnalyzer(
                name=f"posture.{spec.name}",
                version=VERSION,
                controls=scope_controls(spec.families),
                family_rules=family_rules,
                claim=spec.claim,
                parse=spec.parse,
                checks=checks,
                rules=posture_rules,
                path_hint=spec.path_hint,
                required=spec.required,
            ),
        )
