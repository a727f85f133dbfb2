"""File analyzer: the marker files vendors' deep-learning images carry, read as text (never executed).

- AWS Deep Learning Containers: `usr/local/bin/bash_telemetry.sh` calls `deep_learning_container.py` with
  `--framework`, `--framework-version` and `--container-type`.
- Google Deep Learning VM / Workbench: `opt/deeplearning/metadata/env_version` (the image release, `m125`),
  `env_uri` (the container image of the environment) and `framework`.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from shareguard.core.analyzer import Output, PathHint
from shareguard.core.context import ScanContext
from shareguard.core.entry import FileEntry
from shareguard.core.errors import ParseError
from shareguard.freshness.facts import ImageMarker

MAX_BYTES = 64 * 1024
TELEMETRY = "usr/local/bin/bash_telemetry.sh"
DLVM_DIR = "opt/deeplearning/metadata/"
DLVM_FILES = ("env_version", "env_uri", "framework")
_ARG = re.compile(r"--(framework|framework-version|container-type)\s+[\"']?([A-Za-z0-9_.+\-]{1,64})[\"']?")


def _root_of(path: str, marker: str) -> str | None:
    """The root a marker path belongs to: `` for `usr/local/bin/…`, `rootfs` for `rootfs/usr/local/bin/…`."""
    if path == marker:
        return ""
    if path.endswith("/" + marker):
        return path[: -len(marker) - 1]
    return None


def _which(path: str) -> tuple[str, str] | None:
    root = _root_of(path, TELEMETRY)
    if root is not None:
        return "aws-dlc-telemetry", root
    for name in DLVM_FILES:
        root = _root_of(path, DLVM_DIR + name)
        if root is not None:
            return "dlvm-metadata", root
    return None


class MarkerAnalyzer:
    name: str = "freshness.markers"
    version: str = "1"
    controls: tuple[str, ...] = ("DLC-C-01", "DLVM-C-01")
    path_hint = PathHint.ending(".sh", *DLVM_FILES, installed=True)

    def required(self, path: str, size: int) -> bool:
        return size <= MAX_BYTES and _which(path) is not None

    def claims(self, entry: FileEntry) -> bool:
        return entry.size <= MAX_BYTES and _which(entry.rel_path) is not None

    def analyze(self, entry: FileEntry, ctx: ScanContext) -> Iterable[Output]:
        which = _which(entry.rel_path)
        if which is None:
            return
        kind, root = which
        text = entry.read_text(MAX_BYTES)
        if kind == "aws-dlc-telemetry":
            # Placeholders (`"${FRAMEWORK}"`) are no literal value: the marker is kept without them and the
            # image stays unidentified by it, with the evidence named.
            fields = tuple(sorted((k, v) for k, v in _ARG.findall(text) if not v.startswith("$")))
        else:
            value = text.strip()
            if not value or "\n" in value or len(value) > 512:
                raise ParseError("Deep Learning VM metadata file is not one line of text", path=entry.rel_path)
            fields = ((entry.name, value),)
        yield ImageMarker(kind=kind, root=root, path=entry.rel_path, fields=fields, layer=entry.layer)
