"""Runs the inventory the way the layer scan does: `required` per file, `analyze` the wanted ones (as file
analyzers: an entry and a context), then the finalizers in order over the merged facts. Used by the
inventory tests (not a stub of anything)."""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path

from shareguard.core.context import ScanContext
from shareguard.core.entry import FileEntry
from shareguard.core.facts import Fact, Package
from shareguard.core.settings import Settings
from shareguard.image.analyzers._common import InventoryFiles
from shareguard.image.plugin import inventory_analyzers, inventory_finalizers


def run_analyzer(analyzer: InventoryFiles, path: str, content: bytes, layer: str | None) -> list[Fact]:
    """What `analyze` yields for `content` at `path` of `layer` (exceptions propagate, as to the engine)."""
    entry = FileEntry(rel_path=path, size=len(content), data=content, layer=layer)
    out = analyzer.analyze(entry, ScanContext(settings=Settings()))
    assert isinstance(out, list) and all(isinstance(f, Fact) for f in out)
    return out


def analyze_files(files: dict[str, bytes], layer: str | None = None) -> tuple[list[Fact], dict[str, str | None]]:
    facts: list[Fact] = []
    for path, content in files.items():
        for analyzer in inventory_analyzers():
            if analyzer.required(path, len(content)):
                facts.extend(run_analyzer(analyzer, path, content, layer))
    return facts, dict.fromkeys(files, layer)


def finalize(facts: list[Fact], files: dict[str, str | None]) -> list[Fact]:
    for finalizer in sorted(inventory_finalizers(), key=lambda f: f.order):
        facts = finalizer.finalize(facts, files)
    return facts


def inventory(files: dict[str, bytes], layer: str | None = None) -> list[Fact]:
    return finalize(*analyze_files(files, layer))


def walk_real(roots: Iterable[str]) -> list[Fact]:
    """Analyze real directories of this machine (paths made root-relative, as a rootfs scan sees them)."""
    analyzers = inventory_analyzers()
    facts: list[Fact] = []
    files: dict[str, str | None] = {}
    for root in roots:
        walked = [(root, [], [""])] if Path(root).is_file() else os.walk(root)
        for dirpath, dirs, names in walked:
            if dirpath.endswith(("site-packages", "dist-packages")):
                # only metadata lives here for the inventory; skipping module trees keeps the test fast
                dirs[:] = [d for d in dirs if d.endswith((".dist-info", ".egg-info"))]
            for name in names:
                full = Path(dirpath, name) if name else Path(dirpath)
                rel = str(full).lstrip("/")
                files[rel] = None
                if not full.is_file():  # follows links, as the rootfs source does for wanted files
                    continue
                size = full.stat().st_size
                wanting = [a for a in analyzers if a.required(rel, size)]
                if wanting:
                    content = full.read_bytes()
                    for a in wanting:
                        facts.extend(run_analyzer(a, rel, content, None))
    return finalize(facts, files)


def packages(facts: list[Fact], ecosystem: str | None = None) -> list[Package]:
    return [f for f in facts if isinstance(f, Package) and (ecosystem is None or f.ecosystem == ecosystem)]


def extra(pkg: Package) -> dict[str, str]:
    return dict(pkg.extra)
