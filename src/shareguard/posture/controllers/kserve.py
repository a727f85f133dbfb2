"""KServe: the pods of an InferenceService whose components name a model format, and of an LLMInferenceService.

InferenceService (serving.kserve.io/v1beta1), as the controller documents and implements it
(`MergeServingRuntimeAndInferenceServiceSpecs`): a component given as `model:` (or the older framework keys
`sklearn:`, `pytorch:`…, which the webhook turns into `model:` with that format) runs the ServingRuntime named in
`model.runtime` (a namespaced ServingRuntime first, then a ClusterServingRuntime) or, without one, the runtime
that supports the model format with `autoSelect: true` (namespaced first; the highest `priority` wins). Its
`kserve-container` is strategic-merged with the component's container fields (args are appended); the pod keeps
the runtime's `nodeSelector`, `affinity`, `tolerations`, `volumes` and `imagePullSecrets`, merged with the
component's own pod fields. Containers the controller injects (storage initializer, queue-proxy, agent) are
not the user's to harden and are not judged. The webhook fills in missing CPU/memory requests and limits from
the `inferenceservice-config` ConfigMap, so a missing limit is not a finding there.

LLMInferenceService (serving.kserve.io/v1alpha1/v1alpha2): the controller merges, lowest first, the well-known
LLMInferenceServiceConfig objects shipped with KServe (`kserve-config-llm-*`), the configs listed in
`spec.baseRefs`, and the service's own spec (strategic merge); its pods are `template`, `worker`,
`prefill.template`, `prefill.worker` and `router.scheduler.template`.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

from shareguard.posture.controllers.merge import as_dict, merge, named
from shareguard.posture.controllers.model import BuiltPod, Template

FRAMEWORK_KEYS = (
    "sklearn", "xgboost", "tensorflow", "pytorch", "triton", "onnx", "huggingface", "pmml", "lightgbm", "paddle",
)  # fmt: skip
"""PredictorSpec's framework fields (older shorthand for `model: {modelFormat: {name: <key>}}`)."""
_MODEL_ONLY = frozenset(
    {"modelFormat", "runtime", "storageUri", "storage", "protocolVersion", "runtimeVersion", "storageUris"}
)
"""ModelSpec / PredictorExtensionSpec fields that are not Container fields."""
POD_FIELDS = (
    "securityContext", "serviceAccountName", "serviceAccount", "automountServiceAccountToken", "volumes",
    "hostNetwork", "hostPID", "hostIPC", "initContainers", "imagePullSecrets", "nodeSelector", "affinity",
    "tolerations", "runtimeClassName", "shareProcessNamespace",
)  # fmt: skip
"""PodSpec fields a component may set inline."""
_RUNTIME_POD_FIELDS = ("nodeSelector", "affinity", "tolerations", "volumes", "imagePullSecrets")
"""What the controller takes from the runtime's pod-level fields (MergePodSpec)."""
RUNTIME_CONTAINER = "kserve-container"
POD_DECIDED = frozenset({"K8S-005", "K8S-014"})
"""The pod's service account and host namespaces come from the InferenceService only (MergePodSpec takes no
other pod field from the runtime): decided without the runtime."""
SUPPLIED = {"K8S-015": "KServe's webhook fills in missing CPU/memory limits from the inferenceservice-config ConfigMap"}
LLM_COMPONENTS = (
    ("template", ("template",)),
    ("worker", ("worker",)),
    ("prefill.template", ("prefill", "template")),
    ("prefill.worker", ("prefill", "worker")),
    ("router.scheduler.template", ("router", "scheduler", "template")),
)
WELL_KNOWN_PREFIX = "kserve-config-llm-"


def shorthand_model(component: dict[str, Any]) -> tuple[dict[str, Any], str] | None:
    """(model fields, format name) of a component given by model format, or None."""
    model = component.get("model")
    if isinstance(model, dict):
        return model, str(as_dict(model.get("modelFormat")).get("name") or "")
    for key in FRAMEWORK_KEYS:
        if isinstance(component.get(key), dict):
            return component[key], key
    return None


def _supports(t: Template, fmt: str) -> int | None:
    """The priority with which runtime `t` auto-selects format `fmt` (None: it does not)."""
    if t.spec.get("disabled") is True:
        return None
    for f in t.spec.get("supportedModelFormats") or []:
        if isinstance(f, dict) and str(f.get("name", "")).lower() == fmt.lower() and f.get("autoSelect") is True:
            prio = f.get("priority")
            return prio if isinstance(prio, int) else 0
    return None


def find_runtime(templates: Iterable[Template], namespace: str, name: str, fmt: str) -> Template | None:
    runtimes = [t for t in templates if t.kind in ("ServingRuntime", "ClusterServingRuntime")]
    local = [t for t in runtimes if t.kind == "ServingRuntime" and t.namespace == namespace]
    cluster = [t for t in runtimes if t.kind == "ClusterServingRuntime"]
    if name:
        return next((t for t in (*local, *cluster) if t.name == name), None)
    for group in (local, cluster):
        ranked = [(p, i, t) for i, t in enumerate(group) if (p := _supports(t, fmt)) is not None]
        if ranked:
            return max(ranked, key=lambda r: (r[0], -r[1]))[2]
    return None


def isvc_pods(spec: dict[str, Any], namespace: str, templates: list[Template]) -> Iterator[BuiltPod]:
    """The pods of an InferenceService's components given by model format."""
    for comp in ("predictor", "transformer", "explainer"):
        component = spec.get(comp)
        if not isinstance(component, dict) or isinstance(component.get("containers"), list):
            continue  # a custom container is judged as written by the Kubernetes analyzer
        found = shorthand_model(component)
        pod_fields = {k: component[k] for k in POD_FIELDS if k in component}
        if found is None:
            yield BuiltPod(
                comp,
                f"spec.{comp}",
                {**pod_fields, "containers": [{"name": RUNTIME_CONTAINER}]},
                unresolved=f"the {comp}'s container comes from KServe's configuration, not in the scan",
                supplied=SUPPLIED,
                decided=POD_DECIDED,
            )
            continue
        model, fmt = found
        container = {"name": RUNTIME_CONTAINER, **{k: v for k, v in model.items() if k not in _MODEL_ONLY}}
        runtime_name = str(model.get("runtime") or "")
        runtime = find_runtime(templates, namespace, runtime_name, fmt)
        if runtime is None:
            what = f"runtime {runtime_name}" if runtime_name else f"no runtime auto-selecting model format {fmt!r}"
            yield BuiltPod(
                comp,
                f"spec.{comp}",
                {**pod_fields, "containers": [container]},
                unresolved=f"{what} in the scan (ServingRuntime / ClusterServingRuntime)",
                supplied=SUPPLIED,
                decided=POD_DECIDED,
            )
            continue
        base = named(runtime.spec.get("containers"), RUNTIME_CONTAINER)
        if base is None:
            yield BuiltPod(
                comp,
                f"spec.{comp}",
                {**pod_fields, "containers": [container]},
                unresolved=f"{runtime.kind} {runtime.name} has no {RUNTIME_CONTAINER} container",
                supplied=SUPPLIED,
                decided=POD_DECIDED,
            )
            continue
        merged = merge(base, {k: v for k, v in container.items() if k != "args"})
        merged["args"] = [*(base.get("args") or []), *(container.get("args") or [])]
        if not merged["args"]:
            del merged["args"]
        runtime_pod = {k: runtime.spec[k] for k in _RUNTIME_POD_FIELDS if k in runtime.spec}
        pod = merge(runtime_pod, pod_fields)
        pod["containers"] = [
            merged if isinstance(c, dict) and c.get("name") == RUNTIME_CONTAINER else c
            for c in runtime.spec.get("containers") or []
        ]
        yield BuiltPod(comp, f"spec.{comp}", pod, (f"{runtime.kind}/{runtime.name}",), supplied=SUPPLIED)


def _at(spec: dict[str, Any], keys: tuple[str, ...]) -> Any:
    cur: Any = spec
    for k in keys:
        cur = as_dict(cur).get(k)
    return cur


def llm_pods(spec: dict[str, Any], namespace: str, templates: list[Template]) -> Iterator[BuiltPod]:
    """The pods of an LLMInferenceService: well-known configs < baseRefs (in order) < its own spec."""
    configs = [t for t in templates if t.kind == "LLMInferenceServiceConfig"]
    well_known = sorted((t for t in configs if t.name.startswith(WELL_KNOWN_PREFIX)), key=lambda t: t.name)
    layers: list[tuple[str, dict[str, Any]]] = []
    missing: list[str] = []
    for ref in spec.get("baseRefs") or []:
        name = str(as_dict(ref).get("name") or "")
        found = next((t for t in configs if t.name == name and t.namespace in (namespace, "")), None)
        found = found or next((t for t in configs if t.name == name), None)
        if found is None:
            missing.append(f"LLMInferenceServiceConfig {name}")
        else:
            layers.append((f"LLMInferenceServiceConfig/{found.name}", found.spec))
    for comp, keys in LLM_COMPONENTS:
        present = [(src, v) for src, s in layers if isinstance(v := _at(s, keys), dict)]
        own = _at(spec, keys)
        base = [
            (f"LLMInferenceServiceConfig/{t.name}", v) for t in well_known if isinstance(v := _at(t.spec, keys), dict)
        ]
        if comp != "template" and not present and not isinstance(own, dict):
            continue  # the service does not run this pod
        pod: dict[str, Any] = {}
        for _, layer in (*base, *present):
            pod = merge(pod, layer)
        pod = merge(pod, own if isinstance(own, dict) else None)
        pod.setdefault("containers", [])
        gaps = list(missing)
        if not base:
            gaps.append(f"the well-known {WELL_KNOWN_PREFIX}* configs for {comp}")
        yield BuiltPod(
            comp,
            "spec." + ".".join(keys) if isinstance(own, dict) else "spec",
            pod,
            tuple(src for src, _ in (*base, *present)),
            unresolved=(", ".join(gaps) + " not in the scan") if gaps else "",
        )
