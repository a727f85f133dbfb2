"""npm: `node_modules/<name>/package.json` and `node_modules/@scope/<name>/package.json` at any depth
(projects, `usr/lib/node_modules`, `usr/local/lib/node_modules`). Other package.json files are ignored."""

from __future__ import annotations

import json
from typing import Any

from shareguard.core.analyzer import PathHint
from shareguard.core.context import ScanContext
from shareguard.core.entry import FileEntry
from shareguard.core.facts import Fact, Package
from shareguard.image.analyzers import purls
from shareguard.image.analyzers._common import MIB, InventoryFiles, body

_MARK = "node_modules/"
_MAX = 8 * MIB


def is_package_manifest(path: str) -> bool:
    """True for the manifest at the root of an installed package (not `lib/package.json` inside one)."""
    i = path.rfind(_MARK)
    if i < 0 or (i > 0 and path[i - 1] != "/"):
        return False
    parts = path[i + len(_MARK) :].split("/")
    if len(parts) == 2:
        return not parts[0].startswith((".", "@"))
    return len(parts) == 3 and parts[0].startswith("@") and len(parts[0]) > 1


def _licenses(manifest: dict[str, Any]) -> tuple[str, ...]:
    value = manifest.get("license")
    if isinstance(value, dict):
        value = value.get("type")
    if isinstance(value, str) and value.strip():
        return (value.strip()[:200],)
    legacy = manifest.get("licenses")
    if isinstance(legacy, list):
        names = [x.get("type") if isinstance(x, dict) else x for x in legacy]
        return tuple(n for n in names if isinstance(n, str) and n)
    return ()


class NpmAnalyzer(InventoryFiles):
    name = "inventory.npm"
    version = "1"

    path_hint = PathHint.ending("/package.json", installed=True)

    def required(self, path: str, size: int) -> bool:
        # `path[-1]` is a cached one-character string: the cheapest first test for a suffix.
        return path[-1:] == "n" and path.endswith("/package.json") and _MARK in path and is_package_manifest(path)

    def max_bytes(self, path: str) -> int | None:
        return _MAX

    def analyze(self, entry: FileEntry, ctx: ScanContext) -> list[Fact]:
        path, content, layer = entry.rel_path, body(entry), entry.layer
        try:
            manifest = json.loads(content)
        except (ValueError, RecursionError):
            return []  # many packages ship test fixtures named package.json; not worth a warning
        if not isinstance(manifest, dict):
            return []
        name, version = manifest.get("name"), manifest.get("version")
        if not isinstance(name, str) or not isinstance(version, str) or not name.strip() or not version.strip():
            return []
        name, version = name.strip(), version.strip()
        return [
            Package(
                name=name,
                version=version,
                ecosystem="npm",
                path=path,
                layer=layer,
                purl=purls.npm(name, version),
                origin="npm",
                licenses=_licenses(manifest),
            )
        ]
