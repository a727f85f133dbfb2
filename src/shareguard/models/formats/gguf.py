"""GGUF header validation (header only; tensor data is never read).

Layout (ggml's gguf.md): magic `GGUF`, version (1-3), tensor count and key/value count (u32 in v1,
u64 after), key/value pairs (string key, u32 value type, value), tensor infos (name, n_dims <= 4,
dims, ggml type, offset), then the data section aligned to `general.alignment` (default 32).
Every count and length is bounded by what the file can hold.

The format holds no code: checking the header is MODEL-061's whole evaluation (a truncated or
inconsistent header is its finding). A format version this reader does not know is a part not
analysed, not a finding.
"""

from __future__ import annotations

from typing import BinaryIO

from shareguard.models.formats.env import Env
from shareguard.models.formats.stream import ChunkedReader, Truncated
from shareguard.models.sink import Where

MAX_COUNT = 10_000_000
MAX_STRING = 16 * 1024 * 1024
MAX_DIMS = 4
_FIXED = {0: 1, 1: 1, 2: 2, 3: 2, 4: 4, 5: 4, 6: 4, 7: 1, 10: 8, 11: 8, 12: 8}
STRING, ARRAY = 8, 9
# ggml type -> (block bytes, elements per block) for the common types; others are offset-checked only.
GGML_BLOCKS = {
    0: (4, 1),
    1: (2, 1),
    2: (18, 32),
    3: (20, 32),
    6: (22, 32),
    7: (24, 32),
    8: (34, 32),
    9: (36, 32),
    10: (84, 256),
    11: (110, 256),
    12: (144, 256),
    13: (176, 256),
    14: (210, 256),
    15: (292, 256),
    24: (1, 1),
    25: (2, 1),
    26: (4, 1),
    27: (8, 1),
    28: (8, 1),
    30: (2, 1),
}


class GGUFError(Exception):
    def __init__(self, message: str, offset: int) -> None:
        super().__init__(message)
        self.offset = offset


class UnsupportedVersion(GGUFError):
    """A GGUF version this reader does not know (the header layout may differ)."""


def scan(env: Env, where: Where, fh: BinaryIO, size: int | None, name: str) -> None:
    try:
        check(fh, size)
    except UnsupportedVersion as exc:
        env.sink.not_analysed(where, f"GGUF header not analysed: {exc}")
        return
    except GGUFError as exc:
        env.sink.add(
            "MODEL-061", where, title=f"Invalid GGUF header: {exc}", evidence=str(exc), offset=exc.offset, key="gguf"
        )
    env.sink.evaluate("MODEL-061")


def check(fh: BinaryIO, size: int | None) -> dict[str, object]:
    """Validate the header; returns a few facts (version, counts) or raises GGUFError."""
    r = ChunkedReader(fh, limit=size)
    try:
        return _check(r, size)
    except Truncated as exc:
        raise GGUFError(f"header truncated: {exc}", r.tell()) from None


def _check(r: ChunkedReader, size: int | None) -> dict[str, object]:
    if r.read(4) != b"GGUF":
        raise GGUFError("bad magic", 0)
    version = int.from_bytes(r.read(4), "little")
    if not 1 <= version <= 3:
        raise UnsupportedVersion(f"unsupported version {version}", 4)
    width = 4 if version == 1 else 8
    n_tensors = int.from_bytes(r.read(width), "little")
    n_kv = int.from_bytes(r.read(width), "little")
    cap = MAX_COUNT if size is None else min(MAX_COUNT, size)
    if n_tensors > cap or n_kv > cap:
        raise GGUFError(f"implausible counts: {n_tensors} tensors, {n_kv} key/values", 8)
    alignment = 32
    for _ in range(n_kv):
        at = r.tell()
        key = _string(r, width, size)
        vtype = int.from_bytes(r.read(4), "little")
        value = _value(r, vtype, width, size, at)
        if key == "general.alignment":
            if not isinstance(value, int) or value <= 0 or value & (value - 1):
                raise GGUFError(f"general.alignment {value!r} is not a power of two", at)
            alignment = value
    infos: list[tuple[str, int, int, int]] = []
    for _ in range(n_tensors):
        at = r.tell()
        tname = _string(r, width, size)
        n_dims = int.from_bytes(r.read(4), "little")
        if n_dims > MAX_DIMS:
            raise GGUFError(f"tensor {tname!r} has {n_dims} dimensions (max {MAX_DIMS})", at)
        numel = 1
        for _ in range(n_dims):
            d = int.from_bytes(r.read(width), "little")
            numel *= d
        gtype = int.from_bytes(r.read(4), "little")
        offset = int.from_bytes(r.read(8), "little")
        infos.append((tname, gtype, numel, offset))
    data_start = -(-r.tell() // alignment) * alignment
    for tname, gtype, numel, offset in infos:
        if offset % alignment:
            raise GGUFError(f"tensor {tname!r} offset {offset} is not aligned to {alignment}", data_start)
        block = GGML_BLOCKS.get(gtype)
        nbytes = 0
        if block is not None:
            bb, per = block
            if numel % per:
                raise GGUFError(f"tensor {tname!r}: {numel} elements is not a whole number of type-{gtype} blocks", 0)
            nbytes = numel // per * bb
        if size is not None and data_start + offset + nbytes > size:
            raise GGUFError(
                f"tensor {tname!r} data ({nbytes} bytes at {offset}) runs past the end of the file", data_start
            )
    return {"version": version, "tensors": n_tensors, "kv": n_kv, "alignment": alignment}


def _string(r: ChunkedReader, width: int, size: int | None) -> str:
    at = r.tell()
    n = int.from_bytes(r.read(width), "little")
    if n > MAX_STRING or (size is not None and n > size):
        raise GGUFError(f"string length {n} out of bounds", at)
    if n > 4096:
        r.skip(n)
        return ""
    return r.read(n).decode("utf-8", errors="replace")


def _value(r: ChunkedReader, vtype: int, width: int, size: int | None, at: int, depth: int = 0) -> object:
    if vtype in _FIXED:
        raw = r.read(_FIXED[vtype])
        return int.from_bytes(raw, "little") if vtype in (4, 10) else None
    if vtype == STRING:
        return _string(r, width, size)
    if vtype == ARRAY:
        if depth > 2:
            raise GGUFError("arrays nested too deep", at)
        etype = int.from_bytes(r.read(4), "little")
        count = int.from_bytes(r.read(width), "little")
        if count > (size if size is not None else MAX_COUNT * 16):
            raise GGUFError(f"array of {count} items cannot fit in the file", at)
        if etype in _FIXED:
            r.skip(count * _FIXED[etype])
            return None
        for _ in range(count):
            _value(r, etype, width, size, at, depth + 1)
        return None
    raise GGUFError(f"unknown value type {vtype}", at)
