"""What an image source hands the scanner: the chosen manifest's identity, config, and layer openers."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from typing import Protocol


class BlobReader(Protocol):
    def read(self, n: int = -1, /) -> bytes: ...


BlobOpener = Callable[[], AbstractContextManager[BlobReader]]
"""Opens a layer blob's raw (possibly compressed) bytes as a stream."""


@dataclass(frozen=True)
class Descriptor:
    media_type: str
    digest: str
    size: int
    platform: str | None = None
    """`os/arch[/variant]` when an index says it."""
    annotations: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class ImageConfig:
    diff_ids: tuple[str, ...]
    os: str = ""
    architecture: str = ""
    variant: str = ""
    labels: tuple[tuple[str, str], ...] = ()
    created: str | None = None
    env: tuple[tuple[str, str], ...] = ()
    """The config's `Env` as (name, value) pairs, in order."""

    @property
    def platform(self) -> str:
        parts = [self.os or "unknown", self.architecture or "unknown"]
        if self.variant:
            parts.append(self.variant)
        return "/".join(parts)


@dataclass(frozen=True)
class LayerRef:
    index: int
    diff_id: str
    """Digest of the uncompressed tar (from the config's rootfs.diff_ids)."""
    digest: str | None
    """Digest of the blob as stored (compressed); None when the source only names the layer by path."""
    media_type: str | None
    size: int | None
    opener: BlobOpener = field(compare=False, repr=False)
    verify_uncompressed: bool = False
    """Docker archives name layers by path: the uncompressed content is checked against `diff_id`."""
    open_ahead: bool = False
    """The blob may be read while other layers of the image are read (a local file, which nothing closes
    while it waits its turn); a registry stream is read alone, at its turn (an idle connection may time
    out while its reader waits for free decompression buffers)."""

    @property
    def name(self) -> str:
        return f"layer {self.index + 1} ({self.diff_id[:19]})"


@dataclass(frozen=True)
class ImageSource:
    reference: str
    manifest_digest: str | None
    config_digest: str | None
    config: ImageConfig
    layers: tuple[LayerRef, ...]
    warnings: tuple[str, ...] = ()
