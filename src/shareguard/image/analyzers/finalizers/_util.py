"""Small helpers for finalizers that rewrite `Package` facts."""

from __future__ import annotations

import dataclasses
from typing import Any

from shareguard.core.facts import OSInfo, Package


def extra_value(pkg: Package, key: str) -> str | None:
    for k, v in pkg.extra:
        if k == key:
            return v
    return None


def with_extra(pkg: Package, pairs: dict[str, str], **changes: Any) -> Package:
    """A copy of `pkg` with `pairs` set in `extra` (replacing same keys) and other fields changed."""
    kept = tuple((k, v) for k, v in pkg.extra if k not in pairs)
    return dataclasses.replace(pkg, extra=kept + tuple(pairs.items()), **changes)


def merged_os(facts: list[object]) -> OSInfo | None:
    """The single OSInfo the OS finalizer leaves (the first if several survive)."""
    for f in facts:
        if isinstance(f, OSInfo):
            return f
    return None
