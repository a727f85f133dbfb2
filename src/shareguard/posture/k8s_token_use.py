"""K8S-030 across the files of a scan: a workload that mounts its own service account's API token although no
RBAC binding of the scan grants that account anything (the token is never needed to call the API).

A post analyzer, because the workload, its ServiceAccount and the bindings naming it are separate objects, often
in separate files. It reads the `ConfigResource` facts of the Kubernetes parser: `k8s.workload` (its
`service_account_name`, `automount_service_account_token`, namespace) and `k8s.object` of kind ServiceAccount,
RoleBinding and ClusterRoleBinding. A workload is judged when it runs as a named account (not `default`: that is
K8S-014's) and its pod spec does not set automounting explicitly; its ServiceAccount's own
`automountServiceAccountToken: false` turns mounting off.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any, ClassVar

from shareguard.core.analyzer import Output
from shareguard.core.context import ScanContext
from shareguard.core.coverage import Evaluation
from shareguard.core.facts import ConfigResource, FactStore
from shareguard.posture.check import to_finding
from shareguard.posture.model import PostureResource, Violation
from shareguard.posture.post_analyzer import RulesPostAnalyzer

RULE = "K8S-030"
_BINDINGS = frozenset({"RoleBinding", "ClusterRoleBinding"})


def _bound_accounts(res: ConfigResource) -> Iterator[tuple[str, str]]:
    """(namespace, name) of every ServiceAccount subject of a binding."""
    subjects: Any = res.attributes.get("subjects")
    for s in subjects if isinstance(subjects, list) else []:
        if isinstance(s, dict) and s.get("kind") == "ServiceAccount" and isinstance(s.get("name"), str):
            yield str(s.get("namespace") or res.attributes.get("namespace") or ""), s["name"]


@dataclass
class K8sTokenUse(RulesPostAnalyzer):
    """PostAnalyzer `posture.k8s_token_use`."""

    name: str = "posture.k8s_token_use"
    rule_ids: ClassVar[tuple[str, ...]] = (RULE,)
    types: frozenset[str] = frozenset({"k8s.workload", "k8s.object"})

    def analyze(self, facts: FactStore, ctx: ScanContext) -> Iterable[Output]:
        rules = self.rules()
        meta = rules[RULE]
        workloads: list[ConfigResource] = []
        bound: set[tuple[str, str]] = set()
        no_automount: set[tuple[str, str]] = set()
        for res in facts.of(ConfigResource):
            if res.source_format != "kubernetes":
                continue
            kind = res.attributes.get("kind")
            if res.type == "k8s.workload":
                workloads.append(res)
            elif kind in _BINDINGS:
                bound.update(_bound_accounts(res))
            elif kind == "ServiceAccount" and res.attributes.get("automountServiceAccountToken") is False:
                no_automount.add((str(res.attributes.get("namespace") or ""), str(res.attributes.get("name") or "")))
        out: list[Output] = []
        for wl in workloads:
            a = wl.attributes
            sa = a.get("service_account_name")
            if not isinstance(sa, str) or sa in ("", "default") or a.get("automount_service_account_token") is not None:
                continue
            ns = str(a.get("namespace") or "")
            key = f"{wl.path}#{wl.name}"
            if (ns, sa) in bound or (ns, sa) in no_automount:
                out.append(Evaluation(RULE, meta.control_ids, key))
                continue
            pres = PostureResource(
                type=wl.type,
                name=wl.name,
                file=wl.path,
                line=wl.line,
                attributes=a,
                source_format=wl.source_format,
                raw_type=f"kubernetes:{a.get('kind')}",
            )
            detail = f"service account {sa} is bound to no Role or ClusterRole in the scanned files"
            out.append(to_finding(Violation(RULE, detail=detail), pres, rules, self.name))
        return out
