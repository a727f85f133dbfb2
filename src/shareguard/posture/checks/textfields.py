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
from shareguard.core.resource import Location
from shareguard.posture.check import resource_model
from shareguard.posture.model import PostureResource, Violation
from shareguard.posture.parsers._common import get_path, snake
from shareguard.sensitive.text import detect

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
_RULES = {"personal": "TEXT-001", "financial": "TEXT-001", "credential": "TEXT-002"}
"""Rule per detector category (`sensitive/data/detectors.yaml`); a credential inside a URL is TEXT-003."""


def walk(value: Any, path: str = "", kind: str = "text", depth: int = 0) -> Iterator[tuple[str, str, str]]:
    """(field path, kind, string) for the strings below `value` (the first _MAX_VALUES); kind comes from the
    nearest known key."""
    out: list[tuple[str, str, str]] = []
    _collect(value, path, kind, depth, out, 0, everything=True)
    return iter(out)


def _collect(
    value: Any, path: str, kind: str, depth: int, out: list[tuple[str, str, str]], seen: int, *, everything: bool
) -> int:
    """Append the strings below `value` to `out`; returns how many strings have been seen so far.

    A plain recursive walk into one list (chains of nested generators cost more than the walk itself). Every
    string counts towards _MAX_VALUES (the first ones of a resource are checked, a hostile document gets no
    further), but unless `everything` is asked for only the strings the checks look at are kept: free text,
    and elsewhere URLs; the paths of the others are never built."""
    if depth > _MAX_DEPTH or seen >= _MAX_VALUES:
        return seen
    if isinstance(value, str):
        if everything or kind != "text" or "://" in value:
            out.append((path, kind, value))
        return seen + 1
    if depth + 1 > _MAX_DEPTH:
        return seen  # children would be past the limit (strings included)
    if isinstance(value, dict):
        tag_list = "Key" in value
        for k, item in value.items():
            if seen >= _MAX_VALUES:
                return seen
            key = k if type(k) is str else str(k)
            sub_kind = kind if kind != "text" else FIELD_KINDS.get(snake(key), "text")
            if isinstance(item, str):
                if sub_kind == "text" and tag_list and key in ("Value", "value"):
                    sub_kind = "tag"  # CloudFormation/AWS `[{Key, Value}]` tag lists
                seen += 1
                if everything or sub_kind != "text" or "://" in item:
                    out.append((f"{path}.{key}" if path else key, sub_kind, item))
            else:
                seen = _collect(
                    item, f"{path}.{key}" if path else key, sub_kind, depth + 1, out, seen, everything=everything
                )
    elif isinstance(value, list):
        for i, item in enumerate(value):
            if seen >= _MAX_VALUES:
                return seen
            if isinstance(item, str):
                seen += 1
                if everything or kind != "text" or "://" in item:
                    out.append((f"{path}[{i}]", kind, item))
            else:
                seen = _collect(item, f"{path}[{i}]", kind, depth + 1, out, seen, everything=everything)
    return seen


def _values(res: PostureResource) -> list[tuple[str, str, str]]:
    """The strings of a resource the checks look at, within its first _MAX_VALUES strings. A Kubernetes
    document that yields one resource per pod template (e.g. a PyTorchJob's Master and Worker) is walked
    only at that resource's own template and the metadata."""
    out: list[tuple[str, str, str]] = []
    raw = res.raw
    pod_path = res.attributes.get("pod_spec_path")
    if isinstance(raw, dict) and isinstance(pod_path, str) and pod_path:
        seen = _collect(raw.get("metadata"), "metadata", "text", 0, out, 0, everything=False)
        parent = pod_path.rsplit(".", 1)[0] if "." in pod_path else ""
        if parent:
            seen = _collect(
                get_path(raw, parent + ".metadata"), parent + ".metadata", "text", 0, out, seen, everything=False
            )
        _collect(get_path(raw, pod_path), pod_path, "text", 0, out, seen, everything=False)
    else:
        _collect(raw if isinstance(raw, dict | list) else res.attributes, "", "text", 0, out, 0, everything=False)
    return out


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
        resource = resource_model(res.raw_type or res.type, res.file, res.name)
        seen: set[tuple[str, str]] = set()
        for path, kind, value in _values(res):
            free_text = kind != "text"  # outside free-text fields only URLs with credentials count
            line = None
            if free_text:
                line = _line(res, path)
                # Both parts are of the declared types already: skip the per-value validation pass.
                location = construct(Location, {"line": line, "field_path": path})
                ctx.facts.add(TextField(value=value, resource=resource, location=location, kind=kind))
            for det in detect(value, kind=kind, urls_only=not free_text):
                rule = "TEXT-003" if det.url else _RULES[det.category]
                if (rule, path) in seen:
                    continue
                seen.add((rule, path))
                evidence = mask_url(det.value) if det.url else mask(det.value)
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
