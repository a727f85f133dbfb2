"""Helpers shared by the inventory analyzers: text decoding, bundled data, owned-path filtering."""

from __future__ import annotations

import functools
from importlib import resources
from typing import Any

import yaml

from shareguard.core.errors import ParseError

MIB = 1024 * 1024


def decode_text(content: bytes) -> str:
    """UTF-8 when valid, else Latin-1 (never fails): package metadata in the wild has both."""
    try:
        return content.decode("utf-8")
    except UnicodeDecodeError:
        return content.decode("latin-1")


@functools.cache
def load_data(name: str) -> Any:
    """A YAML file bundled in `image/analyzers/data/` (immutable, so caching it is safe)."""
    text = resources.files("shareguard.image.analyzers").joinpath("data", name).read_text("utf-8")
    return yaml.safe_load(text)


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
