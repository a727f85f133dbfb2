"""Settings: where caches and data live, and input budgets. Read from the environment once per run."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

CACHE_SKIPPED = (
    "shareguard's own cache directory (SHAREGUARD_CACHE_DIR) lies inside the scanned tree: not scanned; "
    "move the cache elsewhere if this folder holds files of yours"
)
"""The warning of a walk (workspace, root filesystem) that skips the cache directory inside its tree: said,
not silent, since a folder of the user's that the setting points at would otherwise vanish from the scan."""


def _default_cache() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "shareguard"


@dataclass(frozen=True)
class Budgets:
    """Size/depth/count limits every parser honours (hostile input gets an error, not a hang)."""

    max_config_bytes: int = 16 * 1024 * 1024
    max_yaml_nodes: int = 1_000_000
    max_depth: int = 200
    max_archive_depth: int = 3
    max_archive_members: int = 100_000
    max_decompressed_bytes: int = 4 * 1024 * 1024 * 1024
    max_member_bytes: int = 512 * 1024 * 1024
    max_layer_inflated_bytes: int = 32 * 1024 * 1024 * 1024
    """Decompressed bytes read from one image layer (the largest layers of real DL images: ~8-12 GB)."""
    max_image_inflated_bytes: int = 128 * 1024 * 1024 * 1024
    """Decompressed bytes read from all the layers of one image (real DL images: ~20-30 GB unpacked)."""
    max_files: int = 5_000_000


@dataclass(frozen=True)
class Settings:
    cache_dir: Path = field(default_factory=_default_cache)
    budgets: Budgets = field(default_factory=Budgets)
    offline: bool = False

    @classmethod
    def from_env(cls) -> Settings:
        cache = os.environ.get("SHAREGUARD_CACHE_DIR")
        return cls(
            cache_dir=Path(cache) if cache else _default_cache(),
            offline=os.environ.get("SHAREGUARD_OFFLINE", "") not in ("", "0", "false"),
        )
