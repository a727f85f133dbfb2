"""Turn a format's resource (its snake_case view and line map) into a canonical PostureResource."""

from __future__ import annotations

from typing import Any

from shareguard.posture.canonical import canonicalize
from shareguard.posture.model import PostureResource


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
