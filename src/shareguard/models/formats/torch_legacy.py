"""Legacy (non-zip) `torch.save` files (`_use_new_zipfile_serialization=False`; torch's `_legacy_save`).

Layout: five pickles — the magic number (0x1950a86a20f9469cfc6c), the protocol version, the sys info,
the saved object, the list of storage keys — then every storage's raw bytes (an 8-byte element count and
the data) to the end of the file. `torch.load` unpickles exactly those five pickles and reads the rest
with `_set_from_file`, never unpickling it. So the walk covers the five pickles, stops before the raw
tensor data (which may start with any byte, including ones that look like a pickle), and the data after
them is neither `MODEL-004` nor a malformed stream. Fewer than five pickles is a truncated file: a part
not analysed, with what the pickles before the cut held still reported.
"""

from __future__ import annotations

import io
import struct
from typing import BinaryIO

from shareguard.models.formats.env import Env
from shareguard.models.formats.pickle_walker import PickleWalker, WalkError
from shareguard.models.formats.stream import ChunkedReader, Truncated
from shareguard.models.pickle_findings import report_walk
from shareguard.models.sink import Where

MAGIC = 0x1950A86A20F9469CFC6C
PICKLES = ("magic number", "protocol version", "sys info", "saved object", "storage keys")
_ERRORS = (WalkError, Truncated, ValueError, struct.error, OverflowError, RecursionError)


def is_legacy(head: bytes) -> bool:
    """Does `head` start with the legacy format's magic-number pickle (a few dozen bytes)?"""
    probe = head[:256]
    walker = PickleWalker(ChunkedReader(io.BytesIO(probe), limit=len(probe)), probe=True)
    try:
        value = walker.walk_one()
    except _ERRORS:
        return False
    return isinstance(value, int) and not isinstance(value, bool) and value == MAGIC


def scan(env: Env, where: Where, fh: BinaryIO, size: int | None) -> None:
    """Walk the five pickles of a legacy torch file and stop before its raw storage bytes."""
    try:
        start = fh.tell()
    except (OSError, ValueError, AttributeError):
        start = 0
    reader = ChunkedReader(fh, start=start, limit=None if size is None else start + size)
    walker = PickleWalker(reader)
    res = walker.res
    res.torch_legacy = True
    try:
        for what in PICKLES:
            if reader.at_eof():
                raise Truncated(f"legacy torch file ends before its {what} pickle")
            walker.walk_one()
    except _ERRORS as exc:
        res.error = str(exc) or type(exc).__name__
        res.error_offset = reader.tell()
    report_walk(env.sink, where, res, expect_trailing=True)
