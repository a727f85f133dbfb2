"""What every format reader gets: settings, the finding sink, budgets and the dispatcher for nested content."""

from __future__ import annotations

from dataclasses import dataclass
from typing import BinaryIO, Protocol

from shareguard.core.settings import Settings
from shareguard.models.formats.blob import Budget
from shareguard.models.sink import FindingSink, Where


class Inspect(Protocol):
    """The dispatcher (`models.inspect.inspect_stream`): analyse nested content (an archive member, a
    decompressed stream). Handed to the readers in `Env` so the formats never import the dispatcher."""

    def __call__(
        self, env: Env, where: Where, fh: BinaryIO, size: int | None, name: str, *, expect_trailing: bool = False
    ) -> None: ...


@dataclass
class Env:
    settings: Settings
    sink: FindingSink
    budget: Budget
    inspect: Inspect
    root_dir: str = ""
    """Directory of the scanned file relative to the scan root (ONNX external data checks)."""
