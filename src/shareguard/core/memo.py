"""Memos that live as long as one scan, never longer.

Parsers and checks memoise pure functions over scanned text (YAML scalars, Dockerfile lines, command
lines, free-text values): the same values recur across the files of one scan. Scanned text holds secrets,
so those memos must not outlive the scan: a process-wide `functools.lru_cache` would keep an unmasked key
in memory after the scan returned, for the life of a library user's process.

`scan_memos()` opens the memos of one scan (the scan creates them and drops them when it returns);
`per_scan` memoises a function inside them and calls straight through outside any scan, keeping nothing.
The current memos are a `ContextVar`, so concurrent scans in other threads or tasks each have their own
(a thread started during a scan runs without memos: slower, never wrong). Caches over bundled data
(patterns, rule files) stay `functools.cache`.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any, ParamSpec, TypeVar

P = ParamSpec("P")
R = TypeVar("R")

_KEYWORDS = object()
"""Separates positional from keyword arguments in a memo key."""


class ScanMemos:
    """The memo tables of one scan: one per memoised function, each bounded."""

    __slots__ = ("tables",)

    def __init__(self) -> None:
        self.tables: dict[object, dict[Any, Any]] = {}

    def __len__(self) -> int:
        """Entries held, over every table."""
        return sum(len(t) for t in self.tables.values())

    def clear(self) -> None:
        for table in self.tables.values():
            table.clear()
        self.tables.clear()


_CURRENT: ContextVar[ScanMemos | None] = ContextVar("shareguard_scan_memos", default=None)


def current() -> ScanMemos | None:
    """The memos of the scan running in this context, if any."""
    return _CURRENT.get()


@contextmanager
def scan_memos() -> Iterator[ScanMemos]:
    """Memos for the scan run inside the block; emptied and dropped when it ends, however it ends.

    A nested block (a scan started by a scan) reuses the outer memos: they are dropped with the outer one."""
    outer = _CURRENT.get()
    if outer is not None:
        yield outer
        return
    memos = ScanMemos()
    token = _CURRENT.set(memos)
    try:
        yield memos
    finally:
        _CURRENT.reset(token)
        memos.clear()


def per_scan(maxsize: int = 8192) -> Callable[[Callable[P, R]], Callable[P, R]]:
    """Memoise a pure function of hashable arguments for the current scan (at most `maxsize` results;
    a full table starts over, which keeps the bound without per-call bookkeeping)."""

    def decorate(fn: Callable[P, R]) -> Callable[P, R]:
        @functools.wraps(fn)
        def memoised(*args: P.args, **kwargs: P.kwargs) -> R:
            memos = _CURRENT.get()
            if memos is None:
                return fn(*args, **kwargs)
            table = memos.tables.get(memoised)
            if table is None:
                table = memos.tables[memoised] = {}
            key: Any = (*args, _KEYWORDS, *kwargs.items()) if kwargs else args
            try:
                return table[key]  # type: ignore[no-any-return]
            except KeyError:
                pass
            if len(table) >= maxsize:
                table.clear()
            out = table[key] = fn(*args, **kwargs)
            return out

        return memoised

    return decorate
