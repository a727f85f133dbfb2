"""Vertex AI training job specs written by hand (the Google provider has no Terraform resource for custom jobs):
the `gcloud ai custom-jobs create --config` file (a CustomJobSpec: `workerPoolSpecs`, `serviceAccount`, `network`,
`enableWebAccess`…), and the REST request bodies of `projects.locations.customJobs` (`jobSpec`, `encryptionSpec`),
`trainingPipelines` (`trainingTaskDefinition`, `trainingTaskInputs`, `encryptionSpec`) and
`persistentResources` (`resourcePools`, `network`, `pscInterfaceConfig`, `encryptionSpec`), as JSON or YAML.

Claimed by content (those keys in the first 4 KiB of a `.json`/`.yaml`/`.yml`); objects that name a job that
exists (`name: projects/…/customJobs/…`, describe output) are left to the describe format. Each object is a
resource judged by the attribute table `posture/attributes/vertexai_jobs.yaml` (raw types `vertex:custom_job_spec`,
`vertex:custom_job`, `vertex:training_pipeline`, `vertex:persistent_resource`), with the snake_case view.
"""

from __future__ import annotations

import re
from typing import Any

from shareguard.core.context import ScanContext
from shareguard.core.entry import SNIFF_BYTES, FileEntry
from shareguard.posture.model import PostureResource
from shareguard.posture.parsers._build import build
from shareguard.posture.parsers._common import LineIndex, json_lines, load_json_text, snake, snake_view
from shareguard.posture.parsers.yaml_safe import load_documents
from shareguard.posture.plugin import FormatSpec, name_of, suffix_hint, suffix_of

_MARKERS = re.compile(rb"[\"']?(?:workerPoolSpecs|trainingTaskDefinition|resourcePools)[\"']?\s*:")
_K8S = re.compile(rb"(?m)^apiVersion\s*:")
_DESCRIBED = re.compile(r"^projects/[^/]+/locations/[^/]+/(?:customJobs|trainingPipelines|persistentResources)/")
_SUFFIXES = (".json", ".yaml", ".yml")
_SEGMENT = re.compile(r"([^.\[]+)((?:\[\d+\])*)")


def required(path: str, size: int) -> bool:
    return size > 0 and suffix_of(name_of(path)) in _SUFFIXES


def claim(entry: FileEntry) -> bool:
    if entry.suffix not in _SUFFIXES or entry.size == 0:
        return False
    head = entry.head(SNIFF_BYTES)
    if b"\x00" in head or _K8S.search(head) or b"AWSTemplateFormatVersion" in head:
        return False
    return _MARKERS.search(head) is not None


def kind_of(obj: dict[str, Any]) -> str | None:
    """The raw type of a job-spec object, or None (not one, or describe output of an existing job)."""
    if _DESCRIBED.match(str(obj.get("name") or "")):
        return None
    if isinstance(obj.get("resourcePools"), list):
        return "vertex:persistent_resource"
    if "trainingTaskDefinition" in obj:
        return "vertex:training_pipeline"
    if isinstance(obj.get("jobSpec"), dict):
        return "vertex:custom_job"
    if isinstance(obj.get("workerPoolSpecs"), list):
        return "vertex:custom_job_spec"
    return None


def _snake_path(path: str) -> str:
    return ".".join(snake(m.group(1)) + m.group(2) for m in _SEGMENT.finditer(path))


def _resource(entry: FileEntry, obj: dict[str, Any], kind: str, line: int, lines: dict[str, int]) -> PostureResource:
    label = obj.get("displayName") or obj.get("display_name")
    name = f"{entry.rel_path}:{label}" if isinstance(label, str) and label else f"{entry.rel_path}:{line}"
    view = snake_view(obj)
    return build(
        raw_type=kind, name=name, file=entry.rel_path, line=line, view=view, source_format="vertex", lines=lines
    )


def parse(entry: FileEntry, ctx: ScanContext) -> list[PostureResource]:
    out: list[PostureResource] = []
    if entry.suffix == ".json":
        text, doc = load_json_text(entry, ctx)
        items = doc if isinstance(doc, list) else [doc]
        idx = LineIndex(text)
        cursor = 0
        for obj in items[:1000]:
            if not isinstance(obj, dict):
                continue
            start = text.find("{", cursor)
            lines: dict[str, int] = {}
            cursor = json_lines(idx, obj, max(start, 0), "", lines, [5000])
            kind = kind_of(obj)
            if kind is not None:
                out.append(_resource(entry, obj, kind, idx.line_at(max(start, 0)), lines))
        return out
    text = entry.read_text(ctx.settings.budgets.max_config_bytes)
    for doc in load_documents(text, entry.rel_path, ctx.settings.budgets):
        if not isinstance(doc.value, dict):
            continue
        kind = kind_of(doc.value)
        if kind is not None:
            lines = {_snake_path(p): n for p, n in doc.lines.items()}
            out.append(_resource(entry, doc.value, kind, doc.line, lines))
    return out


FORMAT = FormatSpec(
    name="vertex_jobs",
    claim=claim,
    parse=parse,
    path_hint=suffix_hint(*_SUFFIXES),
    required=required,
    families=("attributes",),
)
