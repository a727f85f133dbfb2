"""Where log events come from: files, folders (any depth), stdin (`-`), and object stores through fsspec.

`s3://bucket/prefix` and `gs://bucket/prefix` (or any fsspec URL) list every object under the prefix
and stream each one; the store's credentials come from its usual environment (AWS_*, GOOGLE_*), and
`SHAREGUARD_S3_ENDPOINT` points s3:// at an S3-compatible server. A folder and a prefix are read in
name order, which for CloudTrail (`…/YYYY/MM/DD/…_YYYYMMDDTHHMMZ_…json.gz`) is time order.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

from shareguard.core.errors import InputError

MAX_INPUTS = 1_000_000
LOG_SUFFIXES = (".json", ".jsonl", ".ndjson", ".gz", ".log")


@dataclass(frozen=True)
class Input:
    """One readable input: what reports call it, and how to open it."""

    origin: str
    open: Callable[[], AbstractContextManager[BinaryIO]]


def expand(targets: list[str]) -> Iterator[Input]:
    """The inputs the command line names, in order; a missing path is a user error."""
    count = 0
    for target in targets:
        for item in _expand_one(target):
            count += 1
            if count > MAX_INPUTS:
                raise InputError(f"more than {MAX_INPUTS} inputs", path=target)
            yield item


def _expand_one(target: str) -> Iterator[Input]:
    if target == "-":
        yield Input("<stdin>", lambda: _Unclosed(sys.stdin.buffer))
        return
    if "://" in target and not target.startswith("file://"):
        yield from _remote(target)
        return
    path = Path(target.removeprefix("file://"))
    if path.is_dir():
        for p in sorted(path.rglob("*")):
            if p.is_file() and not p.is_symlink() and p.name.lower().endswith(LOG_SUFFIXES):
                yield Input(str(p), _opener(p))
        return
    if not path.is_file():
        raise InputError("no such file or folder", path=target)
    yield Input(str(path), _opener(path))


def _opener(path: Path) -> Callable[[], AbstractContextManager[BinaryIO]]:
    from shareguard.core.files import open_regular

    return lambda: open_regular(path, origin=str(path))


def storage_options(protocol: str) -> dict[str, Any]:
    """fsspec options from the environment (an S3-compatible endpoint for s3://)."""
    if protocol in ("s3", "s3a"):
        endpoint = os.environ.get("SHAREGUARD_S3_ENDPOINT")
        if endpoint:
            return {"client_kwargs": {"endpoint_url": endpoint}}
    return {}


def _remote(url: str) -> Iterator[Input]:
    try:
        import fsspec
    except ImportError:  # pragma: no cover - fsspec is a dependency
        raise InputError("reading URLs needs fsspec", path=url) from None
    protocol = url.split("://", 1)[0]
    try:
        fs, root = fsspec.core.url_to_fs(url, **storage_options(protocol))
    except (ImportError, ValueError) as exc:
        raise InputError(f"cannot open {protocol}:// URLs: {exc}", path=url) from None
    try:
        if fs.isdir(root):
            names = sorted(n for n in fs.find(root) if n.lower().endswith(LOG_SUFFIXES))
        elif fs.exists(root):
            names = [root]
        else:
            raise InputError("no such object or prefix", path=url)
    except OSError as exc:
        raise InputError(f"cannot list: {exc}", path=url) from None
    for name in names:
        yield Input(fs.unstrip_protocol(name), _remote_opener(fs, name))


def _remote_opener(fs: Any, name: str) -> Callable[[], AbstractContextManager[BinaryIO]]:
    def open_() -> AbstractContextManager[BinaryIO]:
        opened: AbstractContextManager[BinaryIO] = fs.open(name, "rb")
        return opened

    return open_


class _Unclosed(AbstractContextManager[BinaryIO]):
    """stdin as a context manager that does not close it."""

    def __init__(self, stream: BinaryIO) -> None:
        self._stream = stream

    def __enter__(self) -> BinaryIO:
        return self._stream

    def __exit__(self, *exc: object) -> None:
        return None
