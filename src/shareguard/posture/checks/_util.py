"""Small helpers every cloud check module uses (value tests, data tables, violations)."""

from __future__ import annotations

import re
from functools import cache
from importlib import resources
from typing import Any

from shareguard.core.data_cache import load_bundled_yaml
from shareguard.posture.model import PostureResource, Violation
from shareguard.posture.parsers._common import as_bool, as_list, is_unknown, known, present

__all__ = [
    "DEFAULT_COMPUTE_SA",
    "as_bool",
    "as_list",
    "data",
    "is_false",
    "is_true",
    "is_unknown",
    "known",
    "line_of",
    "present",
    "v",
]

DEFAULT_COMPUTE_SA = re.compile(r"^\d+-compute@developer\.gserviceaccount\.com$")


@cache
def data(name: str) -> Any:
    """A bundled data table (`posture/data/<name>.yaml`): lists that change live as data, not code."""
    text = resources.files("shareguard.posture").joinpath("data", f"{name}.yaml").read_text(encoding="utf-8")
    return load_bundled_yaml(text)  # trusted package data, read back as JSON after the first run


def is_true(value: Any) -> bool:
    return as_bool(value) is True


def is_false(value: Any) -> bool:
    return as_bool(value) is False


def line_of(res: PostureResource, path: str) -> int | None:
    """Line of a path: exact, then without list indices (HCL line maps have none), then the nearest parent."""
    if path in res.lines:
        return res.lines[path]
    alt = re.sub(r"\[\d+\]", "", path)
    if alt in res.lines:
        return res.lines[alt]
    got = res.line_of(path)
    return res.line_of(alt) if got == res.line else got


def v(
    rule_id: str,
    res: PostureResource,
    field: str | None = None,
    *,
    evidence: str | None = None,
    detail: str | None = None,
    key: str | None = None,
) -> Violation:
    return Violation(
        rule_id=rule_id,
        field_path=field,
        evidence=evidence,
        detail=detail,
        line=line_of(res, field) if field else None,
        fingerprint_key=key,
    )
