"""safetensors header validation (no code can live in the format; a bad header can still crash or
mislead loaders). Checks follow the format's rules: 8-byte little-endian header length, a JSON
object of tensors {dtype, shape, data_offsets} plus an optional `__metadata__` string map, and
offsets that are in range, non-overlapping and cover the data buffer exactly.

The format holds no code: what can be wrong is the header, and checking it is MODEL-060's whole
evaluation (a truncated or inconsistent header is its finding, not a part left unanalysed)."""

from __future__ import annotations

import json
from typing import Any, BinaryIO

from shareguard.models.formats.env import Env
from shareguard.models.sink import Where

MAX_HEADER = 100_000_000  # the safetensors library's own limit
DTYPE_BITS = {
    "BOOL": 8,
    "U8": 8,
    "I8": 8,
    "F8_E5M2": 8,
    "F8_E4M3": 8,
    "F8_E8M0": 8,
    "I16": 16,
    "U16": 16,
    "F16": 16,
    "BF16": 16,
    "I32": 32,
    "U32": 32,
    "F32": 32,
    "C64": 64,
    "F64": 64,
    "I64": 64,
    "U64": 64,
    "F4": 4,
    "F6_E2M3": 6,
    "F6_E3M2": 6,
}


def scan(env: Env, where: Where, fh: BinaryIO, size: int | None, name: str) -> None:
    problems = check(fh, size)
    env.sink.evaluate("MODEL-060")
    for offset, problem in problems[:10]:
        env.sink.add(
            "MODEL-060",
            where,
            title=f"Invalid safetensors header: {problem}",
            evidence=problem,
            offset=offset,
            key=problem,
        )


def check(fh: BinaryIO, size: int | None) -> list[tuple[int | None, str]]:
    raw_len = fh.read(8)
    if len(raw_len) < 8:
        return [(0, "file shorter than the 8-byte header length")]
    n = int.from_bytes(raw_len, "little")
    if n > MAX_HEADER:
        return [(0, f"header length {n} over {MAX_HEADER}")]
    if size is not None and 8 + n > size:
        return [(0, f"header length {n} runs past the end of the file ({size} bytes)")]
    raw = fh.read(n)
    if len(raw) < n:
        return [(8, "file ends inside the header")]
    try:
        header = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError) as exc:
        return [(8, f"header is not JSON: {exc}")]
    if not isinstance(header, dict):
        return [(8, "header is not a JSON object")]
    out: list[tuple[int | None, str]] = []
    spans: list[tuple[int, int, str]] = []
    for key, info in header.items():
        if key == "__metadata__":
            if not isinstance(info, dict) or not all(
                isinstance(k, str) and isinstance(v, str) for k, v in info.items()
            ):
                out.append((8, "__metadata__ is not a map of strings"))
            continue
        problem = _tensor_problem(key, info, spans)
        if problem:
            out.append((8, problem))
    spans.sort()
    pos = 0
    for begin, end, key in spans:
        if begin < pos:
            out.append((8 + n + begin, f"tensor {key!r} overlaps the previous tensor"))
        elif begin > pos:
            out.append((8 + n + pos, f"gap of {begin - pos} bytes before tensor {key!r}"))
        pos = max(pos, end)
    if size is not None and 8 + n + pos != size:
        out.append((8 + n + pos, f"data ends at {8 + n + pos} but the file has {size} bytes"))
    return out


def _tensor_problem(key: str, info: Any, spans: list[tuple[int, int, str]]) -> str | None:
    if not isinstance(info, dict):
        return f"tensor {key!r} is not an object"
    dtype, shape, offsets = info.get("dtype"), info.get("shape"), info.get("data_offsets")
    if dtype not in DTYPE_BITS:
        return f"tensor {key!r} has unknown dtype {dtype!r}"
    if not isinstance(shape, list) or not all(isinstance(d, int) and not isinstance(d, bool) and d >= 0 for d in shape):
        return f"tensor {key!r} has an invalid shape"
    if (
        not isinstance(offsets, list)
        or len(offsets) != 2
        or not all(isinstance(o, int) and not isinstance(o, bool) for o in offsets)
        or not 0 <= offsets[0] <= offsets[1]
    ):
        return f"tensor {key!r} has invalid data_offsets {offsets!r}"
    numel = 1
    for d in shape:
        numel *= d
    nbytes = (numel * DTYPE_BITS[str(dtype)] + 7) // 8
    if offsets[1] - offsets[0] != nbytes:
        return f"tensor {key!r}: data_offsets span {offsets[1] - offsets[0]} bytes, dtype and shape need {nbytes}"
    spans.append((offsets[0], offsets[1], key))
    return None
