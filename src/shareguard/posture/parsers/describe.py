"""JSON returned by cloud describe/list APIs, claimed by content (known key sets), never by extension alone.

Recognised shapes (single objects, `gcloud … list --format=json` arrays, and `aws … describe-*`/`list-*`
wrappers such as `{"NotebookInstances": [...]}`, `{"trailList": [...]}`, `{"Listeners": [...]}`):
SageMaker notebook instance / training job / processing job / endpoint config / model; Dataflow Job
(gcloud and REST `projects.locations.jobs`), Flex Template launch parameters and container spec files;
Vertex AI endpoints, models, custom jobs, datasets, featurestores, indexes, Workbench and user-managed
notebook instances; Compute Engine instances (Deep Learning VMs); CloudTrail trails; ELBv2 listeners;
`aws iam get-account-summary`; service-account keys; Cloud Storage buckets; S3 public access blocks.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any

from shareguard.core.context import ScanContext
from shareguard.core.entry import FileEntry
from shareguard.posture.model import PostureResource
from shareguard.posture.parsers._build import build
from shareguard.posture.parsers._common import LineIndex, json_head, json_lines, json_path, load_json_text, snake_view
from shareguard.posture.plugin import ANY_PATH, FormatSpec

_MARKERS = (
    b'"NotebookInstanceName"',
    b'"TrainingJobName"',
    b'"ProcessingJobName"',
    b'"EndpointConfigName"',
    b'"ModelName"',
    b'"currentState"',
    b'"JOB_TYPE_',
    b'"launch_parameter"',
    b'"launchParameter"',
    b'"sdkInfo"',
    b'"compute#instance"',
    b'"networkInterfaces"',
    b'"TrailARN"',
    b'"IsMultiRegionTrail"',
    b'"ListenerArn"',
    b'"SummaryMap"',
    b'"keyType"',
    b'"storage#bucket"',
    b'"storage_url"',
    b'"PublicAccessBlockConfiguration"',
    b"/locations/",
)
_VERTEX = re.compile(
    r"^projects/[^/]+/locations/[^/]+/(?P<coll>endpoints|models|customJobs|datasets|featurestores|indexes|"
    r"indexEndpoints|instances|trainingPipelines|tensorboards|metadataStores)/[^/]+$"
)
_VERTEX_TYPES = {
    "endpoints": "vertexai.endpoint",
    "indexEndpoints": "vertexai.endpoint",
    "models": "vertexai.model",
    "customJobs": "vertexai.custom_job",
    "trainingPipelines": "vertexai.custom_job",
    "datasets": "vertexai.dataset",
}
_WRAPPERS = (
    "NotebookInstances",
    "TrainingJobs",
    "ProcessingJobs",
    "EndpointConfigs",
    "Models",
    "trailList",
    "Trails",
    "Listeners",
    "jobs",
    "keys",
    "items",
    "instances",
    "endpoints",
    "models",
    "customJobs",
    "datasets",
)
_MAX_ITEMS = 100_000


def claim(entry: FileEntry) -> bool:
    head = json_head(entry)
    if head is None:
        return False
    if b'"format_version"' in head and b'"terraform_version"' in head:
        return False
    if b"AWSTemplateFormatVersion" in head:
        return False
    return any(m in head for m in _MARKERS)


def _vertex_kind(obj: dict[str, Any]) -> str | None:
    name = obj.get("name")
    if not isinstance(name, str):
        return None
    m = _VERTEX.match(name)
    if not m:
        return None
    coll = m.group("coll")
    if coll == "instances":
        if "gceSetup" in obj:
            return "vertexai.workbench"
        if any(k in obj for k in ("noPublicIp", "proxyUri", "vmImage", "containerImage", "machineType")):
            return "vertexai.notebook"
        return None
    if coll in ("featurestores", "indexes", "tensorboards", "metadataStores"):
        return None  # no describe shape worth canonicalising beyond the snake view
    return _VERTEX_TYPES.get(coll)


_Classifier = Callable[[dict[str, Any]], bool]
_CLASSES: tuple[tuple[str, _Classifier], ...] = (
    (
        "sagemaker.notebook",
        lambda o: "NotebookInstanceName" in o and ("NotebookInstanceArn" in o or "InstanceType" in o),
    ),
    (
        "sagemaker.training_job",
        lambda o: "TrainingJobName" in o and ("AlgorithmSpecification" in o or "ResourceConfig" in o),
    ),
    (
        "sagemaker.processing_job",
        lambda o: "ProcessingJobName" in o and ("ProcessingResources" in o or "AppSpecification" in o),
    ),
    ("sagemaker.endpoint_config", lambda o: "EndpointConfigName" in o and "ProductionVariants" in o),
    (
        "sagemaker.model",
        lambda o: "ModelName" in o and ("PrimaryContainer" in o or "Containers" in o or "ModelArn" in o),
    ),
    (
        "dataflow.job",
        lambda o: (
            (str(o.get("type", "")).startswith("JOB_TYPE_") or str(o.get("currentState", "")).startswith("JOB_STATE_"))
            and ("environment" in o or "projectId" in o)
        ),
    ),
    ("dataflow.flex_launch", lambda o: "launch_parameter" in o or "launchParameter" in o),
    ("dataflow.flex_launch", lambda o: "image" in o and "sdkInfo" in o),
    (
        "compute.instance",
        lambda o: (
            o.get("kind") == "compute#instance" or ("networkInterfaces" in o and "disks" in o and "machineType" in o)
        ),
    ),
    ("cloudtrail.trail", lambda o: "TrailARN" in o or ("IsMultiRegionTrail" in o and "S3BucketName" in o)),
    ("elb.listener", lambda o: "ListenerArn" in o and "Protocol" in o),
    ("iam.account_summary", lambda o: isinstance(o.get("SummaryMap"), dict)),
    ("iam.sa_key", lambda o: "keyType" in o and "/serviceAccounts/" in str(o.get("name", ""))),
    (
        "storage.bucket",
        lambda o: o.get("kind") == "storage#bucket" or str(o.get("storage_url", "")).startswith("gs://"),
    ),
    ("s3.public_access_block", lambda o: isinstance(o.get("PublicAccessBlockConfiguration"), dict) and len(o) <= 2),
)

_NAME_KEYS = (
    "NotebookInstanceName",
    "TrainingJobName",
    "ProcessingJobName",
    "EndpointConfigName",
    "ModelName",
    "TrailARN",
    "Name",
    "ListenerArn",
    "name",
    "id",
    "jobName",
    "storage_url",
)


def classify(obj: dict[str, Any]) -> str | None:
    for kind, test in _CLASSES:
        if test(obj):
            return kind
    return _vertex_kind(obj)


def _objects(doc: Any) -> list[dict[str, Any]]:
    """The describe objects in a file: the object itself, array items, or the items of a known wrapper."""
    if isinstance(doc, list):
        return [o for o in doc[:_MAX_ITEMS] if isinstance(o, dict)]
    if not isinstance(doc, dict):
        return []
    if classify(doc):
        return [doc]
    for key in _WRAPPERS:
        items = doc.get(key)
        if isinstance(items, list):
            return [o for o in items[:_MAX_ITEMS] if isinstance(o, dict)]
    for key in ("launch_parameter", "launchParameter"):
        if isinstance(doc.get(key), dict):
            return [doc]
    return []


def _spans(text: str, doc: Any) -> list[int]:
    """Start offsets of the objects `_objects` returns (top-level array items or a wrapper's items)."""
    if isinstance(doc, dict) and not classify(doc):
        for key in _WRAPPERS:
            if isinstance(doc.get(key), list):
                m = re.search(r'"' + re.escape(key) + r'"\s*:\s*\[', text)
                return _array_items(text, m.end()) if m else []
        return [text.find("{")]
    if isinstance(doc, list):
        start = text.find("[")
        return _array_items(text, start + 1) if start >= 0 else []
    return [max(0, text.find("{"))]


def _array_items(text: str, pos: int) -> list[int]:
    """Offsets of the object items of the JSON array whose content starts at `pos`."""
    decoder = json.JSONDecoder()
    out: list[int] = []
    n = len(text)
    while pos < n and len(out) < _MAX_ITEMS:
        while pos < n and text[pos] in " \t\r\n,":
            pos += 1
        if pos >= n or text[pos] == "]":
            break
        try:
            item, end = decoder.raw_decode(text, pos)
        except (json.JSONDecodeError, RecursionError):
            break
        if isinstance(item, dict):
            out.append(pos)
        pos = end
    return out


def _name(obj: dict[str, Any], kind: str, i: int) -> str:
    if kind == "iam.account_summary":
        return "account-summary"
    for key in _NAME_KEYS:
        v = obj.get(key)
        if isinstance(v, str) and v:
            return v
    return f"{kind}[{i}]"


def _summary_view(obj: dict[str, Any]) -> dict[str, Any]:
    summary = obj.get("SummaryMap") or {}
    return {
        "account_access_keys_present": summary.get("AccountAccessKeysPresent"),
        "account_mfa_enabled": summary.get("AccountMFAEnabled"),
        "summary": summary,
    }


def parse(entry: FileEntry, ctx: ScanContext) -> list[PostureResource]:
    text, doc = load_json_text(entry, ctx)
    idx = LineIndex(text)
    out: list[PostureResource] = []
    objects = _objects(doc)
    starts = _spans(text, doc)
    for i, obj in enumerate(objects):
        kind = classify(obj)
        if kind is None:
            continue
        name = _name(obj, kind, i)
        start = starts[i] if i < len(starts) else 0
        lines: dict[str, int] = {}
        json_lines(idx, obj, start, "", lines, [5000])
        if kind == "iam.account_summary":
            view = _summary_view(obj)
            out.append(
                PostureResource(
                    type="aws.iam.account_summary",
                    name=name,
                    file=entry.rel_path,
                    line=lines.get("summary_map", 1),
                    attributes=view,
                    source_format="describe",
                    raw_type="describe:iam.account_summary",
                    lines={"account_access_keys_present": lines.get("summary_map", 1)},
                    raw=obj,
                )
            )
            continue
        view = snake_view(obj)
        if kind == "s3.public_access_block":
            view = view.get("public_access_block_configuration") or {}
            lines = {k.removeprefix("public_access_block_configuration."): v for k, v in lines.items()}
        line = idx.line_at(start)
        out.append(
            build(
                raw_type=f"describe:{kind}",
                name=name,
                file=entry.rel_path,
                line=line,
                view=view,
                source_format="describe",
                lines=lines,
                raw=obj,
            )
        )
    return out


FORMAT = FormatSpec(
    name="describe",
    claim=claim,
    parse=parse,
    path_hint=ANY_PATH,  # extension-less files too (`json_head`)
    required=json_path,
)
