"""Kubernetes manifests: multi-document YAML, every workload kind and the CRDs that embed pod templates.

Any PodSpec-shaped mapping (one with a `containers:` list of mappings) found under an object's
`spec` becomes one `k8s.workload` resource, so Deployments, CronJobs, Kubeflow
PyTorchJob/TFJob/MPIJob/XGBoostJob/PaddleJob (`spec.*ReplicaSpecs.<role>.template.spec`),
Kubeflow Notebooks, KServe InferenceServices (`spec.predictor`), Ray clusters and jobs
(`headGroupSpec` / `workerGroupSpecs[i]`) and JobSets are all covered without a list of CRDs.
Argo Workflow templates (`container:` / `script:`) are read as one-container pods.

Resource types and attributes (paths in `lines` and in findings are document paths):
- `k8s.workload`: kind, api_version, name, namespace, labels, annotations, pod_spec,
  pod_spec_path, service_account_name, automount_service_account_token, host_network,
  host_pid, host_ipc, security_context (pod level), volumes, containers (every container,
  init and ephemeral ones too, each with extra keys `container_type` and `path`);
- `k8s.ingress`, `k8s.service`, `k8s.configmap`, `k8s.secret`: kind, name, namespace,
  labels, annotations, spec/data as written;
- `k8s.object`: any other kind (for user CEL rules).

Helm/Go templates (`{{ … }}`) are not YAML: such files get a skip note, not an error.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from shareguard.core.context import ScanContext
from shareguard.core.entry import SNIFF_BYTES, FileEntry
from shareguard.core.errors import ParseError
from shareguard.posture.model import PostureResource
from shareguard.posture.parsers.yaml_safe import Located, load_documents
from shareguard.posture.plugin import FormatSpec, name_of, suffix_hint, suffix_of

_API = re.compile(rb"(?m)^[ \t]*[\"']?apiVersion[\"']?[ \t]*:[ \t]*\S")
_KIND = re.compile(rb"(?m)^[ \t]*[\"']?kind[\"']?[ \t]*:[ \t]*\S")
_TEMPLATE = "{{"
_OTHER_TYPES = {
    "Ingress": "k8s.ingress",
    "Service": "k8s.service",
    "ConfigMap": "k8s.configmap",
    "Secret": "k8s.secret",
}
_CONTAINER_LISTS = (("containers", "container"), ("initContainers", "init"), ("ephemeralContainers", "ephemeral"))
TEMPLATED_KINDS = frozenset({"TrainJob", "LLMInferenceService", "LLMInferenceServiceConfig"})
"""Kinds whose pods a controller builds from a runtime/config template merged with the object: never judged as
written here, but by the `posture.k8s_controller_pods` post analyzer on the merged pod."""
SHORTHAND_COMPONENTS = ("predictor", "transformer", "explainer")
"""KServe InferenceService components; one without `containers` takes its container from a ServingRuntime."""
RUNTIME_KINDS = frozenset({"ServingRuntime", "ClusterServingRuntime", "TrainingRuntime", "ClusterTrainingRuntime"})
"""Templates the controllers merge into the objects above: judged as written, and kept whole (`runtime_spec`)."""


def claim(entry: FileEntry) -> bool:
    if entry.suffix not in (".yaml", ".yml") or entry.size == 0:
        return False
    head = entry.head(SNIFF_BYTES)
    return _API.search(head) is not None and _KIND.search(head) is not None


def required(path: str, size: int) -> bool:
    """The path rule of `claim` (which then sniffs the content)."""
    return size > 0 and suffix_of(name_of(path)) in (".yaml", ".yml")


def parse(entry: FileEntry, ctx: ScanContext) -> list[PostureResource]:
    raw = entry.read(ctx.settings.budgets.max_config_bytes)
    if b"\x00" in raw[:SNIFF_BYTES]:
        raise ParseError("binary content, not a Kubernetes manifest", path=entry.rel_path)
    text = raw.decode("utf-8", errors="replace")
    templated = _TEMPLATE in text
    if templated and "/templates/" in f"/{entry.rel_path}":
        ctx.warn(
            entry.rel_path,
            "Helm template ({{ }}): not plain YAML, skipped (render it with `helm template` to scan)",
            "posture.kubernetes",
        )
        return []
    try:
        docs = load_documents(text, entry.rel_path, ctx.settings.budgets)
    except ParseError:
        if templated:
            ctx.warn(
                entry.rel_path,
                "Go/Helm template ({{ }}): not valid YAML, skipped (render it first to scan)",
                "posture.kubernetes",
            )
            return []
        raise
    out: list[PostureResource] = []
    for doc in docs:
        out.extend(resources_of(doc, entry.rel_path))
    return out


def resources_of(doc: Located, path: str) -> list[PostureResource]:
    """The resources of one YAML document (a `kind: List` gives its items)."""
    value = doc.value
    if not isinstance(value, dict) or not isinstance(value.get("kind"), str):
        return []
    if value["kind"].endswith("List") and isinstance(value.get("items"), list):
        out: list[PostureResource] = []
        for i, item in enumerate(value["items"]):
            if isinstance(item, dict):
                sub = Located(item, doc.line_of(f"items[{i}]") or doc.line, doc.lines_under(f"items[{i}]"), doc.index)
                out.extend(resources_of(sub, path))
        return out
    return list(_object_resources(value, doc, path))


def _object_resources(obj: dict[str, Any], doc: Located, path: str) -> Iterator[PostureResource]:
    kind = str(obj["kind"])
    meta: dict[str, Any] = obj["metadata"] if isinstance(obj.get("metadata"), dict) else {}
    labels, annotations = meta.get("labels"), meta.get("annotations")
    name, namespace = str(meta.get("name") or meta.get("generateName") or ""), str(meta.get("namespace") or "")
    base: dict[str, Any] = {
        "kind": kind,
        "api_version": str(obj.get("apiVersion", "")),
        "name": name,
        "namespace": namespace,
        "labels": labels if isinstance(labels, dict) else {},
        "annotations": annotations if isinstance(annotations, dict) else {},
    }
    if kind in RUNTIME_KINDS and isinstance(obj.get("spec"), dict):
        base["runtime_spec"] = obj["spec"]
    ident = f"{kind}/{namespace + '/' if namespace else ''}{name or f'#{doc.index}'}"
    templated = kind in TEMPLATED_KINDS or (kind == "InferenceService" and has_shorthand(obj.get("spec")))
    specs = (
        list(find_pod_specs(obj.get("spec"), "spec"))
        if kind not in _OTHER_TYPES and kind not in TEMPLATED_KINDS
        else []
    )
    if templated:  # the post analyzer merges it with its runtime: it needs the object as written, with lines
        attrs = {**base, **{k: v for k, v in obj.items() if k not in ("kind", "apiVersion", "metadata")}}
        attrs["document_lines"] = doc.lines_under("spec")
        yield _resource("k8s.object", ident, path, doc, "", attrs, obj)
        if not specs:
            return
    if specs:
        for spec_path, spec in specs:
            name = ident if len(specs) == 1 and not templated else f"{ident}@{spec_path}"
            yield _resource("k8s.workload", name, path, doc, spec_path, {**base, **pod_workload(spec, spec_path)}, obj)
        return
    attrs = {**base, **{k: v for k, v in obj.items() if k not in ("kind", "apiVersion", "metadata")}}
    yield _resource(_OTHER_TYPES.get(kind, "k8s.object"), ident, path, doc, "", attrs, obj)


def _resource(
    rtype: str, name: str, path: str, doc: Located, at: str, attrs: dict[str, Any], obj: dict[str, Any]
) -> PostureResource:
    return PostureResource(
        type=rtype,
        name=name,
        file=path,
        line=doc.line_of(at) if at else doc.line,
        attributes=attrs,
        source_format="kubernetes",
        raw_type=f"kubernetes:{attrs['kind']}",
        lines=doc.lines,
        raw=obj,
    )


def has_shorthand(spec: Any) -> bool:
    """An InferenceService component given as a model format (`model:` or a framework key such as `sklearn:`)
    instead of `containers`: the controller takes the container from a ServingRuntime."""
    if not isinstance(spec, dict):
        return False
    return any(
        isinstance(c := spec.get(name), dict) and not _is_pod_spec(c) and any(isinstance(v, dict) for v in c.values())
        for name in SHORTHAND_COMPONENTS
    )


def find_pod_specs(node: Any, path: str) -> Iterator[tuple[str, dict[str, Any]]]:
    """Every PodSpec-shaped mapping below `node` (not descending into a found one)."""
    if isinstance(node, dict):
        if _is_pod_spec(node):
            yield path, node
            return
        argo = _argo_template(node)
        if argo is not None:
            yield path, argo
            return
        for k, v in node.items():
            if isinstance(v, dict | list):
                yield from find_pod_specs(v, f"{path}.{k}")
    elif isinstance(node, list):
        for i, v in enumerate(node):
            yield from find_pod_specs(v, f"{path}[{i}]")


def _is_pod_spec(node: dict[str, Any]) -> bool:
    cs = node.get("containers")
    return isinstance(cs, list) and bool(cs) and all(isinstance(c, dict) for c in cs)


def _argo_template(node: dict[str, Any]) -> dict[str, Any] | None:
    """An Argo Workflow template (`container:`/`script:` with an image) as a one-container pod spec."""
    for key in ("container", "script"):
        c = node.get(key)
        if isinstance(c, dict) and isinstance(c.get("image"), str) and "name" in node:
            spec = {
                k: v
                for k, v in node.items()
                if k
                in ("securityContext", "volumes", "serviceAccountName", "automountServiceAccountToken", "hostNetwork")
            }
            spec["containers"] = [{"name": node.get("name"), **c}]
            spec["__argo_key__"] = key
            return spec
    return None


def pod_workload(spec: dict[str, Any], spec_path: str) -> dict[str, Any]:
    containers: list[dict[str, Any]] = []
    argo_key = spec.get("__argo_key__")
    for key, ctype in _CONTAINER_LISTS:
        items = spec.get(key)
        if not isinstance(items, list):
            continue
        for i, c in enumerate(items):
            if isinstance(c, dict):
                cpath = f"{spec_path}.{argo_key}" if argo_key else f"{spec_path}.{key}[{i}]"
                containers.append({**c, "container_type": ctype, "path": cpath})
    sc = spec.get("securityContext")
    return {
        "pod_spec": {k: v for k, v in spec.items() if k != "__argo_key__"},
        "pod_spec_path": spec_path,
        "containers": containers,
        "service_account_name": str(spec.get("serviceAccountName") or spec.get("serviceAccount") or ""),
        "automount_service_account_token": spec.get("automountServiceAccountToken"),
        "host_network": spec.get("hostNetwork") is True,
        "host_pid": spec.get("hostPID") is True,
        "host_ipc": spec.get("hostIPC") is True,
        "security_context": sc if isinstance(sc, dict) else {},
        "volumes": [v for v in spec.get("volumes") or [] if isinstance(v, dict)]
        if isinstance(spec.get("volumes"), list)
        else [],
    }


FORMAT = FormatSpec(
    name="kubernetes",
    claim=claim,
    parse=parse,
    path_hint=suffix_hint(".yaml", ".yml"),
    required=required,
)
