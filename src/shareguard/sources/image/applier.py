"""Merge per-layer results into the final filesystem view: upper layers win, whiteouts delete.

Works on what each layer's stream left behind (its path list, whiteouts, opaque directories and
the facts found per path), so cached layers merge exactly like freshly read ones.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Generic, TypeVar

T = TypeVar("T")


@dataclass
class LayerResult(Generic[T]):
    diff_id: str | None
    """None for a root filesystem (one pseudo-layer)."""
    paths: list[str] = field(default_factory=list)
    """Every non-directory entry the layer adds (files, symlinks, hard links)."""
    whiteouts: list[str] = field(default_factory=list)
    opaque: list[str] = field(default_factory=list)
    facts: dict[str, list[T]] = field(default_factory=dict)
    issues: list[tuple[str, str, bool]] = field(default_factory=list)
    """(path, message, is_error): replayed on every scan, cached or not."""


class Applier(Generic[T]):
    """Apply layers bottom-up; each layer's result can be dropped once added (memory stays flat)."""

    def __init__(self) -> None:
        self.files: dict[str, str | None] = {}
        """Every path → the diff id of the layer that last wrote it."""
        self.facts: dict[str, list[T]] = {}

    def add(self, layer: LayerResult[T]) -> None:
        if layer.whiteouts or layer.opaque:
            if "" in layer.opaque:
                self.files.clear()
                self.facts.clear()
            else:
                # A whiteout deletes the path and everything below it; an opaque directory only
                # what is below it. `startswith(tuple)` keeps this one C-level pass per layer.
                exact = set(layer.whiteouts)
                below = tuple(f"{p}/" for p in (*layer.whiteouts, *layer.opaque) if p)
                for table in (self.files, self.facts):
                    for gone in [p for p in table if p in exact or p.startswith(below)]:
                        del table[gone]
        # C-level bulk updates: a warm rescan merges ~200k cached paths per image.
        written = dict.fromkeys(layer.paths, layer.diff_id)
        facts = self.facts
        for path in [p for p in facts if p in written]:
            del facts[path]  # an upper file replaces the lower one, facts and all
        self.files.update(written)
        facts.update(layer.facts)


def merge(layers: list[LayerResult[T]]) -> tuple[dict[str, list[T]], dict[str, str | None]]:
    """(facts per path, every path → the diff id of the layer that last wrote it)."""
    applier: Applier[T] = Applier()
    for layer in layers:
        applier.add(layer)
    return applier.facts, applier.files
