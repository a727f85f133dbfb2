"""A minimal, strictly bounded protobuf wire-format reader (for ONNX and SavedModel files).

It reads fields by offset from a random-access source, so a multi-GB model is walked without
reading its tensor payloads: length-delimited fields are descended into only where the schema
says they hold messages we need, and are otherwise skipped. No protobuf schema or TensorFlow needed.
"""

from __future__ import annotations

import codecs
from collections.abc import Iterator
from dataclasses import dataclass
from typing import BinaryIO

VARINT, I64, LEN, SGROUP, EGROUP, I32 = 0, 1, 2, 3, 4, 5
MAX_DEPTH = 64


class WireError(Exception):
    """Bytes that are not valid protobuf wire format within their bounds."""

    def __init__(self, message: str, field: int | None = None) -> None:
        super().__init__(message)
        self.field = field


class Source:
    """Random access over a file (block cache) or bytes."""

    BLOCK = 1 << 16

    def __init__(self, fh: BinaryIO | None = None, data: bytes | None = None, size: int | None = None) -> None:
        self._fh = fh
        self._data = data
        if data is not None:
            self.size = len(data)
        else:
            assert fh is not None
            self.size = size if size is not None else fh.seek(0, 2)
        self._block_start = -1
        self._block = b""

    def read(self, offset: int, n: int) -> bytes:
        if offset < 0 or offset + n > self.size:
            raise WireError(f"read of {n} bytes at {offset} past the end ({self.size})")
        if self._data is not None:
            return self._data[offset : offset + n]
        assert self._fh is not None
        if n > self.BLOCK:
            self._fh.seek(offset)
            return self._fh.read(n)
        if not (self._block_start <= offset and offset + n <= self._block_start + len(self._block)):
            self._fh.seek(offset)
            self._block_start = offset
            self._block = self._fh.read(self.BLOCK)
        i = offset - self._block_start
        return self._block[i : i + n]

    def varint(self, offset: int, end: int) -> tuple[int, int]:
        """(value, next offset)."""
        value = 0
        shift = 0
        pos = offset
        while True:
            if pos >= end or shift > 63:
                raise WireError(f"bad varint at {offset}")
            b = self.read(pos, 1)[0]
            pos += 1
            value |= (b & 0x7F) << shift
            if not b & 0x80:
                return value, pos
            shift += 7


@dataclass(frozen=True, slots=True)
class Field:
    number: int
    wtype: int
    value: int
    """Varint/fixed value, or the payload length for LEN fields."""
    offset: int
    """Start of the payload (LEN) or of the value."""


def iter_fields(src: Source, start: int, end: int) -> Iterator[Field]:
    pos = start
    if end > src.size:
        raise WireError(f"message end {end} past the end of the file ({src.size})")
    while pos < end:
        key, pos = src.varint(pos, end)
        number, wtype = key >> 3, key & 7
        if number == 0:
            raise WireError(f"field number 0 at {pos}")
        if wtype == VARINT:
            value, pos = src.varint(pos, end)
            yield Field(number, wtype, value, pos)
        elif wtype == I64:
            if pos + 8 > end:
                raise WireError(f"truncated fixed64 at {pos}")
            yield Field(number, wtype, int.from_bytes(src.read(pos, 8), "little"), pos)
            pos += 8
        elif wtype == I32:
            if pos + 4 > end:
                raise WireError(f"truncated fixed32 at {pos}")
            yield Field(number, wtype, int.from_bytes(src.read(pos, 4), "little"), pos)
            pos += 4
        elif wtype == LEN:
            length, pos = src.varint(pos, end)
            if pos + length > end:
                raise WireError(f"field {number} of {length} bytes at {pos} runs past its message (ends {end})", number)
            yield Field(number, wtype, length, pos)
            pos += length
        else:
            raise WireError(f"unsupported wire type {wtype} at {pos}")


def text(src: Source, f: Field, limit: int = 1 << 16) -> str:
    if f.wtype != LEN:
        raise WireError(f"field {f.number} is not length-delimited")
    raw = src.read(f.offset, min(f.value, limit))
    return raw.decode("utf-8", errors="replace")


_ONNX_TOP = {
    1: VARINT,
    2: LEN,
    3: LEN,
    4: LEN,
    5: VARINT,
    6: LEN,
    7: LEN,
    8: LEN,
    14: LEN,
    20: LEN,
    25: LEN,
    26: LEN,
}
"""ModelProto's top-level fields and their wire types (onnx/onnx.proto)."""
_ONNX_ONCE = frozenset({1, 2, 3, 4, 5, 6, 7})
_ONNX_TEXT = frozenset({2, 3, 4, 6})
_GRAPH_FIELDS = frozenset({1, 2, 5, 10, 11, 12, 13, 14, 15, 16})
"""GraphProto's fields (all length-delimited): what a `graph` payload starts with."""


def looks_like_onnx(head: bytes) -> bool:
    """Is `head` the start of an ONNX ModelProto, not just any protobuf that starts with a small
    varint field 1 (an ONNX TensorProto's `dims`, another message type)? Every top-level field in
    `head` has ModelProto's wire type, `ir_version` (1..100) comes first and once, singular fields
    occur once, the string fields are UTF-8, a graph starts with a GraphProto field, an opset import
    with an OperatorSetIdProto field; and the model has a graph or an opset import, or a field that
    runs past `head` (a large graph or doc string)."""
    if not head or head[0] != 0x08:
        return False
    src = Source(data=head)
    end = len(head)
    seen: set[int] = set()
    pos = 0
    try:
        while pos < end:
            key, pos = src.varint(pos, end)
            number, wtype = key >> 3, key & 7
            if wtype == VARINT:
                value, pos = src.varint(pos, end)
                f = Field(number, wtype, value, pos)
            elif wtype == LEN:
                length, pos = src.varint(pos, end)
                f = Field(number, wtype, length, pos)
                if pos + length > end:
                    # runs past the head: judge the part we have
                    return bool(seen) and _onnx_field_ok(src, Field(number, wtype, end - pos, pos), seen, cut=True)
                pos += length
            else:
                return False
            if not _onnx_field_ok(src, f, seen):
                return False
            seen.add(number)
    except WireError:
        return False  # a varint cut by the end of the head: too little to tell
    return bool(seen & {7, 8})


def _onnx_field_ok(src: Source, f: Field, seen: set[int], *, cut: bool = False) -> bool:
    if _ONNX_TOP.get(f.number) != f.wtype:
        return False
    if f.number in _ONNX_ONCE and f.number in seen:
        return False
    if not seen and f.number != 1:
        return False
    if f.number == 1:
        return 1 <= f.value <= 100
    if f.number in _ONNX_TEXT:
        try:
            codecs.getincrementaldecoder("utf-8")().decode(src.read(f.offset, f.value), final=not cut)
        except UnicodeDecodeError:
            return False
        return True
    if f.number in (7, 8) and f.value:
        try:
            key, _ = src.varint(f.offset, f.offset + f.value)
        except WireError:
            return cut
        if f.number == 7:
            return key & 7 == LEN and key >> 3 in _GRAPH_FIELDS
        return key in (0x0A, 0x10)
    return True
