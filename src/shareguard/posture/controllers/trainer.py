"""Kubeflow Trainer: the pods of a TrainJob (trainer.kubeflow.org/v1alpha1), as the Trainer documents the merge.

The TrainJob names its runtime in `spec.runtimeRef` (kind ClusterTrainingRuntime by default, or a
TrainingRuntime of the TrainJob's namespace). The runtime's `spec.template` is a JobSet template; each
`replicatedJobs[]` entry is one pod template, tagged by the label `trainer.kubeflow.org/trainjob-ancestor-step`
(`trainer`, `dataset-initializer`, `model-initializer`). Lowest first, the pod is built from: the runtime's pod
template; the overrides in order (`podSpecOverrides` of v2.0, `podTemplateOverrides` of v2.1, `runtimePatches`
of later releases: service account, pod security context, volumes, and per-container env, volume mounts and
security context, for the jobs they target); then the TrainJob itself — `spec.trainer` (image, command, args,
env, `resourcesPerNode`) on the `node` container of the trainer job, and `spec.initializer.dataset` / `.model`
env on the initializer containers.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from shareguard.posture.controllers.merge import as_dict, merge, merge_list
from shareguard.posture.controllers.model import BuiltPod, Template

ANCESTOR = "trainer.kubeflow.org/trainjob-ancestor-step"
TRAINER_CONTAINER = "node"
INITIALIZERS = {"dataset": "dataset-initializer", "model": "model-initializer"}
_OVERRIDE_POD_FIELDS = (
    "serviceAccountName",
    "securityContext",
    "volumes",
    "imagePullSecrets",
    "nodeSelector",
    "affinity",
    "tolerations",
    "schedulingGates",
)


def _overrides(spec: dict[str, Any]) -> Iterator[tuple[tuple[str, ...], dict[str, Any], str]]:
    """(target job names, pod spec patch, where) of every override, in the order they apply."""
    for i, o in enumerate(spec.get("podSpecOverrides") or []):  # v2.0: the patch fields sit beside targetJobs
        if isinstance(o, dict):
            yield _targets(o), {k: v for k, v in o.items() if k != "targetJobs"}, f"spec.podSpecOverrides[{i}]"
    for i, o in enumerate(spec.get("podTemplateOverrides") or []):
        if isinstance(o, dict):
            yield _targets(o), as_dict(o.get("spec")), f"spec.podTemplateOverrides[{i}]"
    for i, p in enumerate(spec.get("runtimePatches") or []):
        jobs = as_dict(as_dict(as_dict(as_dict(p).get("trainingRuntimeSpec")).get("template")).get("spec"))
        for j, rj in enumerate(jobs.get("replicatedJobs") or []):
            patch = as_dict(
                as_dict(as_dict(as_dict(as_dict(rj).get("template")).get("spec")).get("template")).get("spec")
            )
            yield (str(as_dict(rj).get("name") or ""),), patch, f"spec.runtimePatches[{i}].replicatedJobs[{j}]"


def _targets(o: dict[str, Any]) -> tuple[str, ...]:
    return tuple(str(as_dict(t).get("name") or "") for t in o.get("targetJobs") or [])


def _apply(pod: dict[str, Any], patch: dict[str, Any]) -> dict[str, Any]:
    """One override: pod fields merged; containers and init containers patched by name (env, volume mounts,
    security context); a container the runtime lacks is added only when it is a whole container (an image)."""
    out: dict[str, Any] = merge(pod, {k: patch[k] for k in _OVERRIDE_POD_FIELDS if k in patch})
    for key in ("containers", "initContainers"):
        items = [c for c in patch.get(key) or [] if isinstance(c, dict)]
        have = {c.get("name") for c in out.get(key) or [] if isinstance(c, dict)}
        items = [c for c in items if c.get("name") in have or c.get("image")]
        if items:
            out[key] = merge_list(list(out.get(key) or []), items, "name")
    return out


def _trainer_container(trainer: dict[str, Any]) -> dict[str, Any]:
    c: dict[str, Any] = {"name": TRAINER_CONTAINER}
    for k in ("image", "command", "args", "env"):
        if k in trainer:
            c[k] = trainer[k]
    if isinstance(trainer.get("resourcesPerNode"), dict):
        c["resources"] = trainer["resourcesPerNode"]
    return c


def _patch_container(pod: dict[str, Any], patch: dict[str, Any], replace: tuple[str, ...]) -> dict[str, Any]:
    """Fields in `replace` replace the runtime's; env merges by name."""
    containers = list(pod.get("containers") or [])
    for i, c in enumerate(containers):
        if isinstance(c, dict) and c.get("name") == patch["name"]:
            new = {**c, **{k: patch[k] for k in replace if k in patch}}
            if "env" in patch:
                new["env"] = merge_list(list(c.get("env") or []), list(patch["env"]), "name")
            containers[i] = new
            return {**pod, "containers": containers}
    return pod


def find_runtime(templates: list[Template], spec: dict[str, Any], namespace: str) -> tuple[Template | None, str]:
    ref = as_dict(spec.get("runtimeRef"))
    name, kind = str(ref.get("name") or ""), str(ref.get("kind") or "ClusterTrainingRuntime")
    for t in templates:
        if t.kind == kind and t.name == name and (kind == "ClusterTrainingRuntime" or t.namespace == namespace):
            return t, f"{kind} {name}"
    return None, f"{kind} {name or '(unnamed)'}"


def trainjob_pods(spec: dict[str, Any], namespace: str, templates: list[Template]) -> Iterator[BuiltPod]:
    runtime, label = find_runtime(templates, spec, namespace)
    trainer = as_dict(spec.get("trainer"))
    initializer = as_dict(spec.get("initializer"))
    overrides = list(_overrides(spec))
    if runtime is None:  # judge what the TrainJob itself sets; the rest is the runtime's
        jobs: dict[str, tuple[str, dict[str, Any]]] = {
            "node": ("trainer", {"containers": [_trainer_container(trainer)]})
        }
        for kind, cname in INITIALIZERS.items():
            if isinstance(initializer.get(kind), dict):
                env = initializer[kind].get("env")
                jobs[cname] = (cname, {"containers": [{"name": cname, **({"env": env} if env else {})}]})
        for targets, _, _ in overrides:
            for t in targets:
                jobs.setdefault(t, (t, {"containers": []}))
    else:
        jobs = {}
        rjobs = as_dict(as_dict(runtime.spec.get("template")).get("spec")).get("replicatedJobs") or []
        for i, rj in enumerate(rjobs):
            rj = as_dict(rj)
            tmpl = as_dict(rj.get("template"))
            step = str(as_dict(as_dict(tmpl.get("metadata")).get("labels")).get(ANCESTOR) or "")
            pod = as_dict(as_dict(as_dict(tmpl.get("spec")).get("template")).get("spec"))
            jobs[str(rj.get("name") or f"#{i}")] = (step, pod)
    for job, (step, pod) in jobs.items():
        for targets, patch, _ in overrides:
            if job in targets:
                pod = _apply(pod, patch)
        doc_path = "spec"
        if step == "trainer" or (job == "node" and not step):
            pod = _patch_container(pod, _trainer_container(trainer), ("image", "command", "args", "resources"))
            doc_path = "spec.trainer" if trainer else "spec"
        for kind, cname in INITIALIZERS.items():
            if step == cname and isinstance(initializer.get(kind), dict):
                pod = _patch_container(pod, {"name": cname, **as_dict(initializer[kind])}, ())
                doc_path = f"spec.initializer.{kind}"
        yield BuiltPod(
            job,
            doc_path,
            pod,
            (f"{runtime.kind}/{runtime.name}",) if runtime else (),
            unresolved="" if runtime else f"{label} not in the scan",
        )
