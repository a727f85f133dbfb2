"""File analyzer: running jobs, endpoints and VMs as the cloud APIs describe them (JSON).

SageMaker `describe-training-job` / `describe-processing-job` / `describe-endpoint`, Vertex AI custom jobs and
endpoints (`projects.locations.customJobs` / `endpoints`), Compute Engine instances and disks. Each becomes a
`Workload` fact (state, start time, the images or VM image families it runs); the freshness post analyzer judges
them. Dataflow jobs are the configuration audit's (DATAFLOW-008 and the SDK rules).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from typing import Any

from shareguard.core.analyzer import Output, PathHint
from shareguard.core.context import ScanContext
from shareguard.core.entry import FileEntry
from shareguard.core.errors import ParseError
from shareguard.core.safe_json import load_json
from shareguard.freshness.facts import Workload

MAX_BYTES = 16 * 1024 * 1024
MAX_ITEMS = 10_000
MAX_WALK = 20_000
_MARKERS = (
    b'"TrainingJobName"',
    b'"ProcessingJobName"',
    b'"EndpointName"',
    b'"compute#instance"',
    b'"compute#disk"',
    b"/customJobs/",
    b"/endpoints/",
)
_VERTEX = re.compile(r"^projects/[^/]+/locations/[^/]+/(customJobs|endpoints)/[^/]+$")
_RUNNING = frozenset({"InProgress", "InService", "Updating", "JOB_STATE_RUNNING", "RUNNING", "READY"})


def _strings(value: Any, key: str, budget: list[int]) -> Iterator[str]:
    """Every string under a key named `key`, at any depth (bounded)."""
    stack = [value]
    while stack and budget[0] > 0:
        v = stack.pop()
        budget[0] -= 1
        if isinstance(v, dict):
            for k, x in v.items():
                if k == key and isinstance(x, str):
                    yield x
                elif isinstance(x, dict | list):
                    stack.append(x)
        elif isinstance(v, list):
            stack.extend(v)


def _images(obj: dict[str, Any], keys: tuple[str, ...]) -> tuple[str, ...]:
    budget = [MAX_WALK]
    seen: dict[str, None] = {}
    for key in keys:
        for s in _strings(obj, key, budget):
            seen.setdefault(s, None)
    return tuple(seen)


def workload_of(obj: dict[str, Any], path: str) -> Workload | None:
    if "TrainingJobName" in obj and "TrainingJobStatus" in obj:
        kind, name, state = "sagemaker.training_job", obj["TrainingJobName"], obj["TrainingJobStatus"]
        started = obj.get("TrainingStartTime") or obj.get("CreationTime")
        images = _images(obj, ("TrainingImage",))
    elif "ProcessingJobName" in obj and "ProcessingJobStatus" in obj:
        kind, name, state = "sagemaker.processing_job", obj["ProcessingJobName"], obj["ProcessingJobStatus"]
        started = obj.get("ProcessingStartTime") or obj.get("CreationTime")
        images = _images(obj, ("ImageUri",))
    elif "EndpointName" in obj and "EndpointStatus" in obj:
        kind, name, state = "sagemaker.endpoint", obj["EndpointName"], obj["EndpointStatus"]
        # An endpoint runs what it was last updated to: its age is the last modification.
        started = obj.get("LastModifiedTime") or obj.get("CreationTime")
        images = _images(obj, ("ResolvedImage", "SpecifiedImage", "Image"))
    elif isinstance(obj.get("name"), str) and _VERTEX.match(obj["name"]):
        kind = "vertex.custom_job" if "/customJobs/" in obj["name"] else "vertex.endpoint"
        name = obj.get("displayName") or obj["name"]
        if kind == "vertex.custom_job":
            state, started = obj.get("state", ""), obj.get("startTime") or obj.get("createTime")
        else:
            deployed = [d for d in obj.get("deployedModels") or [] if isinstance(d, dict)]
            times = sorted(str(d["createTime"]) for d in deployed if isinstance(d.get("createTime"), str))
            state = "READY" if deployed else "EMPTY"
            started = times[0] if times else obj.get("updateTime") or obj.get("createTime")
        images = _images(obj, ("imageUri",))
    elif obj.get("kind") in ("compute#instance", "compute#disk"):
        kind = "compute.instance" if obj["kind"] == "compute#instance" else "compute.disk"
        name, state = obj.get("name", ""), obj.get("status", "")
        started = obj.get("creationTimestamp")
        budget = [MAX_WALK]
        images_seen = list(_strings(obj, "sourceImage", budget))
        licenses = [x for v in _strings_lists(obj, "licenses") for x in v]
        running = str(state) in _RUNNING or (kind == "compute.disk" and bool(obj.get("users")))
        return Workload(
            kind=kind,
            name=str(name),
            path=path,
            state=str(state),
            started=str(started or ""),
            running=running,
            families=tuple(dict.fromkeys([*images_seen, *licenses])),
        )
    else:
        return None
    return Workload(
        kind=kind,
        name=str(name),
        path=path,
        state=str(state),
        started=str(started or ""),
        running=str(state) in _RUNNING,
        images=images,
    )


def _strings_lists(obj: dict[str, Any], key: str) -> Iterator[list[str]]:
    stack: list[Any] = [obj]
    budget = MAX_WALK
    while stack and budget > 0:
        v = stack.pop()
        budget -= 1
        if isinstance(v, dict):
            for k, x in v.items():
                if k == key and isinstance(x, list):
                    yield [s for s in x if isinstance(s, str)]
                elif isinstance(x, dict | list):
                    stack.append(x)
        elif isinstance(v, list):
            stack.extend(v)


def _objects(doc: Any) -> list[dict[str, Any]]:
    if isinstance(doc, list):
        items = doc
    elif isinstance(doc, dict):
        wrapped = [
            doc[k]
            for k in ("TrainingJobs", "ProcessingJobs", "Endpoints", "items", "customJobs", "endpoints")
            if isinstance(doc.get(k), list)
        ]
        items = wrapped[0] if wrapped else [doc]
    else:
        items = []
    if len(items) > MAX_ITEMS:
        raise ParseError(f"more than {MAX_ITEMS} descriptions in one file")
    return [x for x in items if isinstance(x, dict)]


class JobAnalyzer:
    name: str = "freshness.jobs"
    version: str = "1"
    controls: tuple[str, ...] = ("DLC-C-04", "DLVM-C-04")
    path_hint = PathHint.ending(".json")

    def required(self, path: str, size: int) -> bool:
        return path.endswith(".json") and size <= MAX_BYTES

    def claims(self, entry: FileEntry) -> bool:
        if not entry.rel_path.endswith(".json") or entry.size > MAX_BYTES:
            return False
        head = entry.head()
        return head.lstrip()[:1] in (b"{", b"[") and any(m in head for m in _MARKERS)

    def analyze(self, entry: FileEntry, ctx: ScanContext) -> Iterable[Output]:
        doc = load_json(entry.read(MAX_BYTES), origin=entry.rel_path, max_depth=ctx.settings.budgets.max_depth)
        for obj in _objects(doc):
            w = workload_of(obj, entry.rel_path)
            if w is not None:
                yield w
