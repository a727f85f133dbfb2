"""The inventory plugin kinds: analyzers that read package metadata files while layers stream.

Trivy's pattern: the source streams each layer once and asks every analyzer `required(path, size)`;
only the files some analyzer wants are read into memory and handed to `analyze`. Results are kept
per file path so the layer applier can merge layers (upper layers win, whiteouts delete) and the
layer cache can store them (keyed by the layer's diff id + every analyzer's name and version).

These are the file analyzers of the inventory, specialised for the layer walk: pure functions of
(path, bytes) whose facts feed the finalizers of the merged image. They share `PathHint` with the
file-analyzer model (`core/analyzer.py`), and they run beside the file analyzers in the same single
pass over each layer (`image/scan.py`), their results kept per path alike.
"""

from __future__ import annotations

from typing import Protocol, runtime_checkable

from shareguard.core.analyzer import PathHint
from shareguard.core.facts import Fact

__all__ = ["InventoryAnalyzer", "InventoryFinalizer", "PathHint"]


@runtime_checkable
class InventoryAnalyzer(Protocol):
    name: str
    version: str
    """Bump when output changes: it is part of the layer-cache key."""

    def required(self, path: str, size: int) -> bool:
        """`path` is POSIX, relative to the filesystem root, without a leading slash."""
        ...

    def analyze(self, path: str, content: bytes, layer: str | None) -> list[Fact]:
        """Facts from one file. Must be pure (no I/O), deterministic, and never execute content."""
        ...


@runtime_checkable
class InventoryFinalizer(Protocol):
    """Runs once on the merged facts of all layers (e.g. mark pip packages owned by dpkg as OS-managed)."""

    name: str
    order: int

    def finalize(self, facts: list[Fact], files: dict[str, str | None]) -> list[Fact]:
        """`files`: every path present in the merged filesystem → the layer digest that last wrote it."""
        ...
