"""The image capability's own plugin kind: inventory finalizers.

The inventory analyzers (dpkg, rpm, apk, python, conda, npm, os-release, apt sources, ML stack) are
file analyzers (`core/analyzer.py`, members shared in `image/analyzers/_common.InventoryFiles`): they
are registered as `FileAnalyzer`s and fed by the same dispatch as every other file analyzer, on image
layers, root filesystems and (where their facts stand alone) workspaces.

A finalizer is not a file analyzer: it reads no file, it runs once over the merged facts of a whole
filesystem (every layer applied: upper layers replaced lower ones, whiteouts deleted) together with the
map of the paths present, and rewrites them (refine the OS ecosystem from the merged os-release, mark
pip packages owned by dpkg, build the ML stack). It cannot be a `PostAnalyzer` either: post analyzers
add to the fact store, while a finalizer replaces facts, needs the merged path map only an image or a
root filesystem has, and its output is what the image-inventory cache stores (keyed by the finalizers'
code, `image/cache.code_key`) before the post analyzers (the vulnerability matcher) run.
"""

from __future__ import annotations

from typing import Protocol, runtime_checkable

from shareguard.core.analyzer import PathHint
from shareguard.core.facts import Fact

__all__ = ["InventoryFinalizer", "PathHint"]


@runtime_checkable
class InventoryFinalizer(Protocol):
    """Runs once on the merged facts of all layers (e.g. mark pip packages owned by dpkg as OS-managed)."""

    name: str
    order: int

    def finalize(self, facts: list[Fact], files: dict[str, str | None]) -> list[Fact]:
        """`files`: every path present in the merged filesystem → the layer digest that last wrote it."""
        ...
