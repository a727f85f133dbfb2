"""conda: `conda-meta/*.json` of every environment (base `opt/conda/`, `opt/conda/envs/*/`, `~/miniconda3`…).

A conda package that is also a PyPI project gets extra `("pypi_name", …)`: from the `.dist-info`/`.egg-info`
directory it installs (conda-meta `files`), else from the bundled name map (`data/conda_pypi_names.yaml`).
The PyPI `.dist-info` paths it installs are published as `OwnedFiles(manager="conda")` so the ownership
finalizer can tie the two records together (see docs/inventory.md: one project, matched once).
"""

from __future__ import annotations

import json
from typing import Any

from packaging.utils import canonicalize_name

from shareguard.core.analyzer import PathHint
from shareguard.core.context import ScanContext
from shareguard.core.entry import FileEntry
from shareguard.core.errors import ParseError
from shareguard.core.facts import Fact, Package
from shareguard.image.analyzers import purls
from shareguard.image.analyzers._common import (
    EVERYWHERE,
    MIB,
    InventoryFiles,
    basename,
    body,
    load_data,
    parent,
    relevant_owned,
)
from shareguard.image.facts import OwnedFiles

_MAX = 512 * MIB
_PYPI_DATA = "conda_pypi_names.yaml"


def env_prefix(path: str) -> str:
    """`opt/conda/envs/ml/conda-meta/x.json` → `opt/conda/envs/ml`."""
    return parent(parent(path))


def channel_name(record: dict[str, Any]) -> str | None:
    """`https://conda.anaconda.org/conda-forge/linux-64` → `conda-forge`; `…/pkgs/main/linux-64` → `pkgs/main`."""
    subdir = record.get("subdir")
    for key in ("channel", "url"):
        value = record.get(key)
        if not isinstance(value, str) or not value.strip():
            continue
        if "://" not in value:
            if key == "channel":
                return value.strip()
            continue
        parts = [p for p in value.split("://", 1)[1].split("/")[1:] if p]
        if len(parts) > 2 and parts[0] == "t":  # token URLs: /t/<token>/<channel>/…
            parts = parts[2:]
        while parts and (parts[-1].endswith((".conda", ".tar.bz2")) or parts[-1] in (subdir, "noarch")):
            parts.pop()
        if parts:
            return "/".join(parts)
    return None


def _pypi_name_from_owned(owned: tuple[str, ...]) -> str | None:
    for item in owned:
        stem = basename(item)
        if stem.endswith((".dist-info", ".egg-info")):
            return str(canonicalize_name(stem.rsplit(".", 1)[0].split("-")[0]))
    return None


def _str(record: dict[str, Any], key: str) -> str:
    value = record.get(key)
    return value.strip() if isinstance(value, str) else ""


def parse_record(path: str, content: bytes, layer: str | None) -> list[Fact]:
    try:
        record = json.loads(content)
    except (ValueError, RecursionError) as exc:
        raise ParseError(f"invalid conda-meta JSON: {type(exc).__name__}", path=path) from None
    if not isinstance(record, dict):
        return []
    name, version = _str(record, "name"), _str(record, "version")
    if not name or not version:
        return []
    prefix = env_prefix(path)
    files = record.get("files")
    owned: tuple[str, ...] = ()
    if isinstance(files, list):
        owned = relevant_owned([f"{prefix}/{f}" if prefix else f for f in files if isinstance(f, str)])
    mapped = load_data(_PYPI_DATA).get(name, "")
    pypi_name = _pypi_name_from_owned(owned) or (str(mapped) if mapped else None)
    build, subdir, channel = _str(record, "build"), _str(record, "subdir"), channel_name(record)
    extra = [("env", prefix)]
    extra += [(k, v) for k, v in (("build", build), ("channel", channel), ("subdir", subdir)) if v]
    if pypi_name:
        extra.append(("pypi_name", pypi_name))
    license_ = _str(record, "license")
    facts: list[Fact] = [
        Package(
            name=name,
            version=version,
            ecosystem="conda",
            path=path,
            layer=layer,
            purl=purls.conda(name, version, build or None, channel, subdir or None),
            origin="conda",
            licenses=(license_,) if license_ else (),
            extra=tuple(extra),
        )
    ]
    if owned:
        facts.append(
            OwnedFiles(manager="conda", package=name, path=path, layer=layer, files=owned, package_version=version)
        )
    return facts


class CondaAnalyzer(InventoryFiles):
    name = "inventory.conda"
    version = "1"
    sources = EVERYWHERE

    path_hint = PathHint.ending(".json", installed=True)

    def required(self, path: str, size: int) -> bool:
        return (
            path[-1:] == "n"
            and path.endswith(".json")
            and "conda-meta/" in path
            and basename(parent(path)) == "conda-meta"
        )

    def max_bytes(self, path: str) -> int | None:
        return _MAX

    def analyze(self, entry: FileEntry, ctx: ScanContext) -> list[Fact]:
        path, content, layer = entry.rel_path, body(entry), entry.layer
        return parse_record(path, content, layer)
