"""Free-text fields of every resource, whatever its format: personal data and secrets in tags, labels,
names, descriptions, annotations, env values and job parameters; URLs with embedded credentials anywhere.

Each free-text value is also published as a `TextField` fact for the sensitive-data capability.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from shareguard.core.context import ScanContext
from shareguard.core.facts import TextField
from shareguard.core.fastmodel import construct
from shareguard.core.masking import mask, mask_url
from shareguard.core.resource import Location, Resource
from shareguard.posture.detectors import detect
from shareguard.posture.model import PostureResource, Violation
from shareguard.posture.parsers._common import get_path, snake

# Key (lower-case, snake_case) → the kind of free text below it.
FIELD_KINDS: dict[str, str] = {
    "tags": "tag",
    "tags_all": "tag",
    "labels": "label",
    "user_labels": "label",
    "resource_labels": "label",
    "annotations": "annotation",
    "description": "description",
    "display_name": "name",
    "name": "name",
    "title": "name",
    "comment": "description",
    "env": "env",
    "environment": "env",
    "environment_variables": "env",
    "parameters": "parameter",
    "launch_parameter": "parameter",
    "arguments": "parameter",
    "args": "parameter",
    "metadata": "parameter",
    "hyper_parameters": "parameter",
}
_MAX_DEPTH = 40
_MAX_VALUES = 20_000
_IDX = re.compile(r"\[\d+\]")


def walk(value: Any, path: str = "", kind: str = "text", depth: int = 0) -> Iterator[tuple[str, str, str]]:
    """(field path, kind, string) for every string below `value`; kind comes from the nearest known key."""
    if depth > _MAX_DEPTH:
        return
    if isinstance(value, str):
        yield path, kind, value
    elif isinstance(value, dict):
        for k, item in value.items():
            key = str(k)
            sub = f"{path}.{key}" if path else key
            sub_kind = kind if kind != "text" else FIELD_KINDS.get(snake(key), "text")
            if sub_kind == "text" and isinstance(item, str) and key in ("Value", "value") and "Key" in value:
                sub_kind = "tag"  # CloudFormation/AWS `[{Key, Value}]` tag lists
            yield from walk(item, sub, sub_kind, depth + 1)
    elif isinstance(value, list):
        for i, item in enumerate(value):
            yield from walk(item, f"{path}[{i}]", kind, depth + 1)


def _values(res: PostureResource) -> Iterator[tuple[str, str, str]]:
    """The strings of a resource. A Kubernetes document that yields one resource per pod template (e.g. a
    PyTorchJob's Master and Worker) is walked only at that resource's own template and the metadata."""
    raw = res.raw
    pod_path = res.attributes.get("pod_spec_path")
    if isinstance(raw, dict) and isinstance(pod_path, str) and pod_path:
        yield from walk(raw.get("metadata"), "metadata")
        parent = pod_path.rsplit(".", 1)[0] if "." in pod_path else ""
        if parent:
            yield from walk(get_path(raw, parent + ".metadata"), parent + ".metadata")
        yield from walk(get_path(raw, pod_path), pod_path)
        return
    yield from walk(raw if isinstance(raw, dict | list) else res.attributes)


def _line(res: PostureResource, path: str) -> int | None:
    """The line of a raw field path: exact match first (as written, snake_case, without list indices, without
    CloudFormation's `Properties.`), then the nearest known parent."""
    exact = res.lines.get(path)
    if exact is not None:
        return exact  # the common case, without building the snake_case variants
    snaked = _snake_path(path)
    candidates = (path, snaked, snaked.removeprefix("properties."))
    for cand in candidates:
        for key in (cand, _IDX.sub("", cand)):
            if key in res.lines:
                return res.lines[key]
    for cand in candidates:
        got = res.line_of(cand)
        if got != res.line:
            return got
    return res.line


def _snake_path(path: str) -> str:
    return ".".join(
        snake(seg) if "[" not in seg else snake(seg.split("[", 1)[0]) + "[" + seg.split("[", 1)[1]
        for seg in path.split(".")
    )


@dataclass(frozen=True)
class TextFieldChecks:
    name: str = "textfields"
    types: frozenset[str] = frozenset({"*"})

    def check(self, res: PostureResource, ctx: ScanContext) -> Iterable[Violation]:
        resource = Resource(type=res.raw_type or res.type, path=res.file, name=res.name)
        seen: set[tuple[str, str]] = set()
        for n, (path, kind, value) in enumerate(_values(res)):
            if n >= _MAX_VALUES:
                break
            free_text = kind != "text"
            if not free_text and "://" not in value:
                continue  # outside free-text fields only URLs with credentials count
            line = None
            if free_text:
                line = _line(res, path)
                # Both parts are of the declared types already: skip the per-value validation pass.
                location = construct(Location, {"line": line, "field_path": path})
                ctx.facts.add(TextField(value=value, resource=resource, location=location, kind=kind))
            categories = (
                frozenset({"personal", "secret", "url_credentials"}) if free_text else frozenset({"url_credentials"})
            )
            for det in detect(value, kind=kind, categories=categories):
                rule = {"personal": "TEXT-001", "secret": "TEXT-002", "url_credentials": "TEXT-003"}[det.category]
                if (rule, path) in seen:
                    continue
                seen.add((rule, path))
                evidence = mask_url(det.value) if det.category == "url_credentials" else mask(det.value)
                yield Violation(
                    rule_id=rule,
                    field_path=path,
                    evidence=evidence,
                    detail=f"{det.detector.replace('_', ' ')} in {kind}"
                    if free_text
                    else det.detector.replace("_", " "),
                    line=line if line is not None else _line(res, path),
                    fingerprint_key=f"{path}:{det.detector}",
                )


CHECKS = (TextFieldChecks(),)
