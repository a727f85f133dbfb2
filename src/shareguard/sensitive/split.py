"""Byte-range parts of large line-oriented objects, so that one large object is scanned by several workers.

A plain-text, CSV/TSV or JSON Lines object larger than a part is cut into nominal byte ranges
`[start, end)`. A range owns the lines that *start* inside it: both of its edges move forward to the next
line start, so neighbouring ranges tile the object line by line and every value is found by exactly one
range, the one its first byte lies in. Each part is scanned with `OVERLAP` bytes before and after its own
lines as context (a keyword just before a value, a value or keyword running past the range's end), and a
CSV part that does not start at the top gets the object's header line in front, so column names stay
context. Only the object's first `max_bytes` bytes are cut, as the plain run reads only those.

Compressed streams, archives, Parquet, JSON documents and binary objects are never split (none can be read
from the middle); they are scanned whole, as one part.

Line numbers: a part knows its lines only relative to its own first line; it reports how many newlines its
own lines hold, and whoever merges the parts adds the counts of the parts before (`LineBase`).
"""

from __future__ import annotations

import math
import os
import stat
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import BinaryIO

SPLITTABLE = ("text", "csv", "jsonl")
"""Scanner kinds whose records are lines (`formats.sniff_kind`)."""
OVERLAP = 64 * 1024
"""Context read on each side of a part's own lines; far more than any detector's value length plus its
context window (a test checks this against the bundled detectors)."""
MIN_PART = 4 * 1024 * 1024
"""No part is planned smaller: below this a part's fixed costs (a seek, the overlap, one more record)
outweigh what a second worker gains."""
PARTS_PER_WORKER = 4
"""Parts planned per worker, so that uneven objects still balance."""
_CHUNK = 64 * 1024


@dataclass(frozen=True)
class Part:
    """One unit of work: a whole object (`count` 1) or the `index`-th of `count` byte ranges of one."""

    key: str
    """The object's name in findings."""
    where: str
    """Where to read it: a local path or an object URL."""
    size: int
    kind: str = "whole"
    """`whole`, or the scanner kind of a split object (`text`, `csv`, `jsonl`)."""
    index: int = 0
    count: int = 1
    start: int = 0
    end: int = 0
    """The nominal byte range (end excluded); the part owns the lines starting in it."""

    @property
    def nominal(self) -> int:
        return self.size if self.count == 1 else self.end - self.start


def plan(
    objects: Sequence[tuple[str, str, int]],
    kind_of: Callable[[str, str], str | None],
    *,
    workers: int,
    max_bytes: int,
) -> list[Part]:
    """The parts of `objects` ((key, where, size) each): an object over 1.5 parts whose `kind_of(key, where)`
    is splittable is cut into equal ranges of about `total / (workers * PARTS_PER_WORKER)` bytes (at least
    `MIN_PART`); every other object is one part. `kind_of` is asked only about objects large enough."""
    total = sum(min(size, max_bytes) for _, _, size in objects)
    part_bytes = max(MIN_PART, math.ceil(total / max(1, workers * PARTS_PER_WORKER)))
    parts: list[Part] = []
    for key, where, size in objects:
        limit = min(size, max_bytes)
        kind = kind_of(key, where) if limit > part_bytes * 3 // 2 else None
        if kind not in SPLITTABLE:
            parts.append(Part(key, where, size))
            continue
        assert kind is not None
        count = math.ceil(limit / part_bytes)
        edges = [limit * i // count for i in range(count + 1)]
        parts.extend(Part(key, where, size, kind, i, count, edges[i], edges[i + 1]) for i in range(count))
    return parts


def balance(parts: Sequence[Part], shards: int) -> list[tuple[int, Part]]:
    """(shard, part) pairs: the largest part first onto the least loaded shard (LPT), shards numbered in
    the order they first appear, so a runner dealing keys round-robin gives shard i to worker i."""
    shards = max(1, shards)
    load = [0] * shards
    placed: list[tuple[int, Part]] = []
    for part in sorted(parts, key=lambda p: (-p.nominal, p.key, p.index)):
        s = min(range(shards), key=lambda i: (load[i], i))
        load[s] += max(1, part.nominal)
        placed.append((s, part))
    return sorted(placed, key=lambda sp: (sp[0], sp[1].key, sp[1].index))


@dataclass(frozen=True)
class Block:
    """What one part's scanner sees: `data` = [CSV header line + newline] + context before + own lines +
    context after; the own lines are `data[own_start:own_end]`."""

    data: bytes
    own_start: int
    own_end: int
    newlines: int
    """Newlines in the own lines: the next part's first line is this part's first + `newlines`."""
    object_size: int

    @property
    def first_line(self) -> int:
        """The block's line number (1-based) of the part's first own line."""
        return 1 + self.data.count(b"\n", 0, self.own_start)


def read_block(fh: BinaryIO, part: Part, max_bytes: int) -> Block:
    """The block of `part` from the seekable object `fh` (see `Block`); reads only around the part."""
    size = fh.seek(0, os.SEEK_END)
    limit = min(size, max_bytes)
    a = _line_start(fh, part.start, limit)
    b = limit if part.index == part.count - 1 else _line_start(fh, part.end, limit)
    if a >= b:
        return Block(b"", 0, 0, 0, size)
    lo = max(0, a - OVERLAP)
    hi = min(limit, b + OVERLAP)
    fh.seek(lo)
    data = fh.read(hi - lo)
    own_start, own_end = a - lo, b - lo
    newlines = data.count(b"\n", own_start, own_end)
    if part.kind == "csv" and lo > 0:
        header = _first_line(fh, limit)
        data = header + b"\n" + data
        own_start += len(header) + 1
        own_end += len(header) + 1
    return Block(data, own_start, own_end, newlines, size)


def _line_start(fh: BinaryIO, pos: int, limit: int) -> int:
    """The first line start at or after `pos` (0 stays 0): just past the first newline at `pos - 1` or later,
    or `limit` when there is none before it."""
    if pos <= 0:
        return 0
    at = pos - 1
    while at < limit:
        fh.seek(at)
        chunk = fh.read(min(_CHUNK, limit - at))
        if not chunk:
            break
        nl = chunk.find(b"\n")
        if nl >= 0:
            return min(limit, at + nl + 1)
        at += len(chunk)
    return limit


def _first_line(fh: BinaryIO, limit: int) -> bytes:
    """The object's first line without its newline (at most `limit` bytes)."""
    fh.seek(0)
    parts: list[bytes] = []
    got = 0
    while got < limit:
        chunk = fh.read(min(_CHUNK, limit - got))
        if not chunk:
            break
        nl = chunk.find(b"\n")
        if nl >= 0:
            parts.append(chunk[:nl])
            break
        parts.append(chunk)
        got += len(chunk)
    return b"".join(parts)


def open_regular(path: str) -> BinaryIO:
    """A local regular file opened for reading (special files refused, as the plain run's reader does)."""
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_NOCTTY", 0) | getattr(os, "O_NONBLOCK", 0))
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise OSError(f"{path}: not a regular file; not read")
        return os.fdopen(fd, "rb")
    except BaseException:
        os.close(fd)
        raise


class LineBase:
    """Adds up the newline counts of an object's parts in order: the first line number of each part."""

    def __init__(self, newlines: Sequence[int]) -> None:
        self._first = [1]
        for n in newlines[:-1]:
            self._first.append(self._first[-1] + n)

    def first_line(self, index: int) -> int:
        return self._first[index]
