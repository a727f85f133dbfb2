"""Where the SigmaHQ snapshot in use lies and its manifest (light: `controls show` and SARIF read the rules'
metadata from here without YAML, pySigma or the decoders; `sigmahq.py` imports and writes snapshots)."""

from __future__ import annotations

import json
from importlib import resources
from importlib.resources.abc import Traversable
from pathlib import Path
from typing import Any

MANIFEST = "MANIFEST.json"


def bundled_dir() -> Traversable:
    return resources.files("shareguard.logs").joinpath("rules", "sigmahq")


def user_dir(cache_dir: Path) -> Path:
    return cache_dir / "sigmahq"


def active_dir(cache_dir: Path | None) -> Traversable | Path:
    """The snapshot in use: the user's updated one when it has a manifest, else the bundled one."""
    if cache_dir is not None and (user_dir(cache_dir) / MANIFEST).is_file():
        return user_dir(cache_dir)
    return bundled_dir()


def manifest(folder: Traversable | Path) -> dict[str, Any]:
    m = folder.joinpath(MANIFEST)
    if not m.is_file():
        return {}
    doc = json.loads(m.read_text(encoding="utf-8"))
    return doc if isinstance(doc, dict) else {}
