"""Turn a format's resource (its snake_case view and line map) into a canonical PostureResource."""

from __future__ import annotations

import re
from functools import cache
from importlib import resources
from typing import Any

import yaml

from shareguard.posture.canonical import canonicalize
from shareguard.posture.model import PostureResource

_DLVM_FAMILY = re.compile(r"(?:^|/)family/([a-z0-9-]+)")
_DLVM_IMAGE = re.compile(r"(?:^|/)images/([a-z0-9-]+)$")


@cache
def _dlvm_project() -> str:
    text = resources.files("shareguard.posture").joinpath("data", "dlvm.yaml").read_text(encoding="utf-8")
    return str(yaml.load(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))["project"])


def dlvm_image(image: Any) -> str | None:
    """How an instance boots a Deep Learning VM image: `family` (…/family/NAME), `image` (a fixed image name),
    `other` (the DLVM project in another form, e.g. a license); None when it does not (or it is unknown)."""
    if not isinstance(image, str) or _dlvm_project() not in image:
        return None
    if _DLVM_FAMILY.search(image):
        return "family"
    return "image" if _DLVM_IMAGE.search(image) else "other"


def dataflow_described(raw_type: str, attrs: dict[str, Any]) -> str:
    """How much of a Dataflow job a resource describes, i.e. whether a *missing* option means its default:
    `complete` (Terraform, plan, CloudFormation, a Flex Template launch request, Beam options with an
    explicit Dataflow runner), `environment` (a describe-API job with its environment: missing settings are
    defaults, but worker IP and service account may simply not be shown), `template` (a Flex Template spec
    file: image and SDK only), `partial` (Beam options whose rest may come from the command line, the summary
    view of a job)."""
    if raw_type.startswith("beam:"):
        return "complete" if attrs.get("dataflow_runner") else "partial"
    if raw_type == "describe:dataflow.flex_launch":
        return "complete" if "launch_parameter" in attrs else "template"
    if raw_type == "describe:dataflow.job":
        return "environment" if attrs.get("environment") else "partial"
    return "complete"


def _derived(kind: str, raw_type: str, attrs: dict[str, Any]) -> None:
    """Canonical attributes derived from others, which rules' `applies_to` selectors (and checks) read: the
    resources a rule really judges (docs/posture-cloud.md)."""
    attrs["raw_type"] = raw_type  # attribute rules modelled for some spellings of a kind only (docs/config.md)
    if kind == "gcp.compute.instance":
        attrs["dlvm_image"] = dlvm_image(attrs.get("image"))
    elif kind == "gcp.dataflow.job":
        attrs["described"] = dataflow_described(raw_type, attrs)


def lookup_line(lines: dict[str, int], path: str, default: int | None) -> int | None:
    """Line of `path` or of its nearest parent in `lines`."""
    while path:
        if path in lines:
            return lines[path]
        cut = max(path.rfind("."), path.rfind("["))
        path = path[:cut] if cut > 0 else ""
    return default


def build(
    *,
    raw_type: str,
    name: str,
    file: str,
    line: int | None,
    view: dict[str, Any],
    source_format: str,
    lines: dict[str, int] | None = None,
    raw: Any = None,
    extra: dict[str, Any] | None = None,
) -> PostureResource:
    canon = canonicalize(raw_type, view)
    all_lines = dict(lines or {})
    for key, src in canon.sources.items():
        got = lookup_line(all_lines, src, None)
        if got is not None:
            all_lines.setdefault(key, got)
    attrs = canon.attributes
    if extra:
        attrs.update(extra)
    _derived(canon.type, raw_type, attrs)
    return PostureResource(
        type=canon.type,
        name=name,
        file=file,
        line=line,
        attributes=attrs,
        source_format=source_format,
        raw_type=raw_type,
        lines=all_lines,
        raw=raw if raw is not None else view,
    )
