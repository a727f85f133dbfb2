"""What a controller builder hands the post analyzer: one pod the controller will run, merged as far as the
templates of the scan allow."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Template:
    """A runtime / config object of the scan (ServingRuntime, TrainingRuntime, LLMInferenceServiceConfig…)."""

    kind: str
    name: str
    namespace: str
    spec: dict[str, Any]
    path: str


@dataclass(frozen=True)
class BuiltPod:
    """A pod spec the controller builds for one component of a custom resource."""

    component: str
    """`predictor`, `transformer`, `template`, `prefill.template`, `node`, `dataset-initializer`…"""
    doc_path: str
    """Where the component is written in the resource (`spec.predictor`, `spec.trainer`…), for the line."""
    pod_spec: dict[str, Any]
    sources: tuple[str, ...] = ()
    """The templates merged in (`ClusterServingRuntime/kserve-sklearnserver`), for the evidence."""
    unresolved: str = ""
    """Why the merge is incomplete (a template not in the scan); empty when it is complete."""
    decided: frozenset[str] = frozenset()
    """Rules the resource alone decides even when a template is missing (pod fields the controller never takes
    from the template, e.g. KServe's service account and host namespaces)."""
    supplied: dict[str, str] = field(default_factory=dict)
    """Rule id → what the controller fills in for it (e.g. default resource limits): such a rule that fails on
    the spec as written is unresolved, not a finding."""
