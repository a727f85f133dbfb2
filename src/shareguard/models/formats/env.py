"""What every format reader gets: settings, the finding sink, budgets and the dispatcher for nested content."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import BinaryIO

from shareguard.core.settings import Settings
from shareguard.models.formats.blob import Budget
from shareguard.models.sink import FindingSink, Where

# inspect(env, where, fh, size, name, expect_trailing) — analyse nested content (archive member, decompressed stream).
Inspect = Callable[["Env", Where, BinaryIO, "int | None", str], None]


@dataclass
class Env:
    settings: Settings
    sink: FindingSink
    budget: Budget
    inspect: Inspect
    root_dir: str = ""
    """Directory of the scanned file relative to the scan root (ONNX external data checks)."""
