"""Kubernetes custom resources whose controller builds the pods from a template: KServe InferenceService
(components given by model format) and LLMInferenceService, Kubeflow TrainJob. Each pod is judged with the
Kubernetes workload rules (K8S-001…015) on the merged spec, as the controller builds it
(`posture/controllers/`), and named on the custom resource.

A post analyzer, because the resource and its runtime (ServingRuntime, TrainingRuntime, LLMInferenceServiceConfig)
are separate objects, often in separate files. When a template is not in the scan, the pod is judged on what the
resource itself sets: a value it sets wins over any template, so an insecure one is a finding; every other rule
is unresolved (its duty incomplete), never passed. A rule for a setting the controller fills in itself (KServe's
default resource limits) is unresolved where the spec leaves it out, not a finding.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any, ClassVar

from shareguard.core.analyzer import Output
from shareguard.core.context import ScanContext
from shareguard.core.coverage import Evaluation, Gap
from shareguard.core.facts import ConfigResource, FactStore
from shareguard.core.rules import RuleMeta
from shareguard.posture.check import to_finding
from shareguard.posture.checks.kubernetes import WORKLOAD_RULES
from shareguard.posture.controllers.kserve import isvc_pods, llm_pods
from shareguard.posture.controllers.model import BuiltPod, Template
from shareguard.posture.controllers.trainer import trainjob_pods
from shareguard.posture.model import PostureResource, Violation
from shareguard.posture.parsers.kubernetes import pod_workload
from shareguard.posture.post_analyzer import RulesPostAnalyzer

RULES = tuple(f"K8S-{i:03d}" for i in range(1, 16))
"""The workload rules judged on each built pod."""
POD = "pod"
"""Document path of the built pod spec in field paths (`pod.containers[0].securityContext.privileged`)."""
_BARE = re.compile(rf"^{POD}(?:\.(?:containers|initContainers|ephemeralContainers)\[\d+\])?$")
"""A field path naming a whole container or the pod: what a check reports for a setting that is missing."""
_TEMPLATE_KINDS = frozenset(
    {
        "ServingRuntime",
        "ClusterServingRuntime",
        "TrainingRuntime",
        "ClusterTrainingRuntime",
        "LLMInferenceServiceConfig",
    }
)
_BUILDERS: dict[str, Callable[[dict[str, Any], str, list[Template]], Iterator[BuiltPod]]] = {
    "InferenceService": isvc_pods,
    "LLMInferenceService": llm_pods,
    "TrainJob": trainjob_pods,
}


def _template(res: ConfigResource) -> Template | None:
    a = res.attributes
    spec = a.get("runtime_spec") if "runtime_spec" in a else a.get("spec")
    if not isinstance(spec, dict):
        return None
    return Template(str(a.get("kind")), str(a.get("name") or ""), str(a.get("namespace") or ""), spec, res.path)


def _resolve(pod: dict[str, Any], path: str) -> bool:
    """`path` (`pod.containers[0].image`) names a value set in `pod`."""
    cur: Any = {POD: pod}
    for part in path.replace("[", ".[").split("."):
        if part.startswith("["):
            i = int(part[1:-1])
            if not isinstance(cur, list) or i >= len(cur):
                return False
            cur = cur[i]
        elif isinstance(cur, dict) and part in cur:
            cur = cur[part]
        else:
            return False
    return True


def set_by_resource(v: Violation, pod: dict[str, Any]) -> bool:
    """The violation is about a value the resource itself sets on a container or the pod's volumes / host
    namespaces: no template can undo it. A pod-level security context can (a container setting wins over it),
    and a missing setting may come from the template."""
    path = v.field_path or ""
    if not path or path.startswith(f"{POD}.securityContext") or _BARE.match(path):
        return False
    if v.rule_id == "K8S-001" and not path.endswith(".runAsUser"):
        return False  # runAsNonRoot: false can still be met by a template's non-zero runAsUser
    return _resolve(pod, path)


@dataclass
class K8sControllerPods(RulesPostAnalyzer):
    """PostAnalyzer `posture.k8s_controller_pods`."""

    name: str = "posture.k8s_controller_pods"
    rule_ids: ClassVar[tuple[str, ...]] = RULES

    def analyze(self, facts: FactStore, ctx: ScanContext) -> Iterable[Output]:
        owners: list[ConfigResource] = []
        templates: list[Template] = []
        for res in facts.of(ConfigResource):
            if res.source_format != "kubernetes":
                continue
            kind = res.attributes.get("kind")
            if kind in _BUILDERS and res.type == "k8s.object":
                owners.append(res)
            elif kind in _TEMPLATE_KINDS:
                t = _template(res)
                if t is not None and not any(
                    (o.kind, o.name, o.namespace) == (t.kind, t.name, t.namespace) for o in templates
                ):
                    templates.append(t)
        if not owners:
            return []
        out: list[Output] = []
        rules = self.rules()
        for owner in owners:
            a = owner.attributes
            spec = a.get("spec")
            if not isinstance(spec, dict):
                continue
            builder = _BUILDERS[str(a.get("kind"))]
            for pod in builder(spec, str(a.get("namespace") or ""), templates):
                out.extend(self._judge(owner, pod, rules, ctx))
        return out

    def _judge(
        self, owner: ConfigResource, built: BuiltPod, rules: dict[str, RuleMeta], ctx: ScanContext
    ) -> Iterator[Output]:
        a = owner.attributes
        lines: dict[str, Any] = a["document_lines"] if isinstance(a.get("document_lines"), dict) else {}
        rel = built.doc_path.removeprefix("spec").removeprefix(".")
        line = lines.get(rel) if rel else None
        res = PostureResource(
            type="k8s.workload",
            name=f"{owner.name}@{built.component}",
            file=owner.path,
            line=line if isinstance(line, int) else owner.line,
            attributes={
                **{k: a[k] for k in ("kind", "api_version", "name", "namespace", "labels", "annotations") if k in a},
                **pod_workload(built.pod_spec, POD),
            },
            source_format="kubernetes",
            raw_type=f"kubernetes:{a.get('kind')}",
        )
        key = f"{res.file}#{res.name}"
        failed: dict[str, list[Violation]] = {}
        undecided: dict[str, str] = {}
        for rule in WORKLOAD_RULES:
            for v in rule(res, ctx):
                if isinstance(v, Violation):
                    failed.setdefault(v.rule_id, []).append(v)
                else:
                    undecided.setdefault(v.rule_id, v.reason)
        source = f" (merged with {', '.join(built.sources)})" if built.sources else ""
        for rid in RULES:
            meta = rules[rid]
            found = failed.get(rid, [])
            partial = bool(built.unresolved) and rid not in built.decided
            if partial:
                found = [v for v in found if set_by_resource(v, built.pod_spec)]
            if found and rid in built.supplied:
                yield Gap(meta.control_ids, f"{owner.path}: {res.name}", f"{rid} unresolved: {built.supplied[rid]}")
                continue
            if found:
                for v in found:
                    detail = f"{v.detail}{source}" if v.detail else source.strip() or None
                    yield to_finding(
                        Violation(v.rule_id, v.field_path, v.evidence, detail, res.line, v.fingerprint_key),
                        res,
                        rules,
                        self.name,
                    )
                yield Evaluation(rid, meta.control_ids, key)
            elif partial or rid in undecided:
                why = undecided.get(rid, built.unresolved)
                yield Gap(meta.control_ids, f"{owner.path}: {res.name}", f"{rid} unresolved: {why}")
            else:
                yield Evaluation(rid, meta.control_ids, key)
