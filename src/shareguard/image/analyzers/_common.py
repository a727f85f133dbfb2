"""Helpers shared by the inventory analyzers: their common file-analyzer members, text decoding, bundled
data, owned-path filtering."""

from __future__ import annotations

import functools
from importlib import resources
from typing import Any

import yaml

from shareguard.core.context import ScanContext
from shareguard.core.dispatch import over_budget_message
from shareguard.core.entry import FileEntry
from shareguard.core.errors import BudgetExceeded, ParseError
from shareguard.core.facts import Fact

MIB = 1024 * 1024

FILESYSTEMS = frozenset({"image", "rootfs"})
"""Where an inventory analyzer whose facts need the finalizers of a whole filesystem runs (an OS package
database means nothing without the merged os-release the distro finalizer reads)."""
EVERYWHERE = frozenset({"image", "rootfs", "workspace"})
"""Where an inventory analyzer whose facts stand alone runs: also a workspace (a vendored `site-packages`
or conda environment checked into a repository)."""


class InventoryFiles:
    """The members every inventory analyzer shares; each is a file analyzer (`core/analyzer.py`).

    - `controls = ()`: an inventory file checks no duty of its own; what it yields feeds the post analyzers
      (the vulnerability matcher), so a file it cannot analyse leaves *their* duties incomplete
      (`image/scan.py`).
    - `links = True`: on image layers and root filesystems, a symlink or hard link to a wanted file of
      the same layer is analyzed under the link's path (Debian's `etc/os-release -> ../usr/lib/os-release`).
    - `claims(entry)` is `required(path, size)`: the path decides, content is never sniffed.
    - `max_bytes(path)`: the byte budget for a path `required` admits (whatever its size). A file over it
      is not read: the dispatcher (image layers, root filesystems) or `claims` (a workspace) reports it as
      an error naming the analyzer, so the matcher's duties are incomplete, never a silent pass.

    `analyze(entry, ctx)` must be deterministic, touch nothing but the entry, and never execute content.
    """

    name: str
    version: str
    """Bump when output changes: it is part of the layer-cache and image-cache keys."""
    controls: tuple[str, ...] = ()
    links = True
    sources: frozenset[str] = FILESYSTEMS

    def required(self, path: str, size: int) -> bool:
        raise NotImplementedError

    def max_bytes(self, path: str) -> int | None:
        """The byte budget for `path` (None: no budget of its own)."""
        return None

    def claims(self, entry: FileEntry) -> bool:
        if not self.required(entry.rel_path, entry.size):
            return False
        budget = self.max_bytes(entry.rel_path)
        if budget is not None and entry.size > budget:
            raise BudgetExceeded(over_budget_message(entry.size, budget, self.name), path=entry.rel_path)
        return True

    def analyze(self, entry: FileEntry, ctx: ScanContext) -> list[Fact]:
        raise NotImplementedError


def body(entry: FileEntry) -> bytes:
    """The whole body of a claimed entry (its size is within the analyzer's `max_bytes` already)."""
    return entry.read(entry.size)


def decode_text(content: bytes) -> str:
    """UTF-8 when valid, else Latin-1 (never fails): package metadata in the wild has both."""
    try:
        return content.decode("utf-8")
    except UnicodeDecodeError:
        return content.decode("latin-1")


_BUNDLED_LOADER: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # trusted package data: libyaml is faster


@functools.cache
def load_data(name: str) -> Any:
    """A YAML file bundled in `image/analyzers/data/` (immutable, so caching it is safe)."""
    text = resources.files("shareguard.image.analyzers").joinpath("data", name).read_text("utf-8")
    return yaml.load(text, Loader=_BUNDLED_LOADER)


def strip_root(path: str) -> str:
    """`/usr/lib/x` and `./usr/lib/x` → `usr/lib/x` (the form every analyzer sees)."""
    while path.startswith("./"):
        path = path[2:]
    return path.lstrip("/")


def parent(path: str) -> str:
    i = path.rfind("/")
    return path[:i] if i >= 0 else ""


def basename(path: str) -> str:
    return path[path.rfind("/") + 1 :]


_PY_META_MARKERS = (".dist-info", ".egg-info")


def ownership_relevant(path: str) -> str | None:
    """The owned path worth remembering for `path`, or None.

    Python metadata: the `.dist-info`/`.egg-info` directory (or egg-info file) containing or being `path`.
    npm: a `package.json` inside `node_modules`. Everything else is dropped to keep facts small.
    """
    for marker in _PY_META_MARKERS:
        i = path.find(marker)
        if i >= 0:
            end = i + len(marker)
            if end == len(path) or path[end] == "/":
                return strip_root(path[:end])
    if path.endswith("/package.json") and "node_modules/" in path:
        return strip_root(path)
    return None


def relevant_owned(paths: list[str] | tuple[str, ...]) -> tuple[str, ...]:
    seen: dict[str, None] = {}
    for p in paths:
        r = ownership_relevant(p)
        if r is not None:
            seen[r] = None
    return tuple(seen)


def check_size(path: str, content: bytes, limit: int) -> None:
    if len(content) > limit:
        raise ParseError(f"file larger than {limit // MIB} MiB budget", path=path)
