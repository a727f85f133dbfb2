"""NumPy `.npy` headers (`.npz` is a zip of them, handled by the archive reader).

Format: magic `\\x93NUMPY`, major/minor version, a 2-byte (v1) or 4-byte (v2/v3) header length,
then a Python-literal dict {'descr', 'fortran_order', 'shape'}. An object dtype (`|O`) means the
data that follows is a pickle: it is walked like any other. The header is parsed with
ast.literal_eval on a bounded string (literals only, no code).

A header that parsed has had MODEL-020 evaluated on it; a truncated, oversized or unreadable header,
or an unknown format version, is a part not analysed.
"""

from __future__ import annotations

import ast
import io
import struct
import tokenize
from typing import Any, BinaryIO

from shareguard.models.formats import pickle_file
from shareguard.models.formats.env import Env
from shareguard.models.sink import Where

MAX_HEADER = 1 << 20


def scan(env: Env, where: Where, fh: BinaryIO, size: int | None, name: str) -> None:
    pre = fh.read(10)
    if len(pre) < 10:
        env.sink.not_analysed(where, "truncated .npy header: the file ends in the magic")
        return
    major = pre[6]
    if major == 1:
        hlen = struct.unpack("<H", pre[8:10])[0]
        start = 10
    elif major in (2, 3):
        more = fh.read(2)
        if len(more) < 2:
            env.sink.not_analysed(where, "truncated .npy header: no header length")
            return
        hlen = struct.unpack("<I", pre[8:10] + more)[0]
        start = 12
    else:
        env.sink.not_analysed(where, f"unsupported variant: .npy format version {major} is not supported")
        return
    if hlen > MAX_HEADER:
        env.sink.not_analysed(where, f".npy header of {hlen} bytes is over the {MAX_HEADER}-byte budget")
        return
    raw = fh.read(hlen)
    header = _parse(raw, major)
    if header is None:
        text = " ".join(raw[:120].decode("latin-1").split())
        env.sink.not_analysed(where, f"invalid or truncated .npy header: {text!r}")
        return
    descr = header.get("descr")
    env.sink.evaluate("MODEL-020")
    if not _has_object(descr):
        return
    env.sink.add(
        "MODEL-020",
        where,
        evidence=f"descr={descr!r} shape={header.get('shape')!r}",
        offset=start + hlen,
        key="object-dtype",
    )
    data_size = None if size is None else size - start - hlen
    pickle_file.scan(env, where, fh, data_size, name)


def _parse(raw: bytes, major: int) -> dict[str, Any] | None:
    text = raw.decode("latin-1").strip()
    try:
        value = ast.literal_eval(text)
    except SyntaxError:
        if major > 2:
            return None
        # Python 2 wrote long integers with an `L` suffix (`'shape': (2L,)`); numpy reads v1/v2 headers
        # after dropping it (numpy.lib.format._filter_header), so do we.
        try:
            value = ast.literal_eval(_drop_long_suffix(text))
        except (ValueError, SyntaxError, MemoryError, RecursionError, tokenize.TokenError):
            return None
    except (ValueError, MemoryError, RecursionError):
        return None
    if not isinstance(value, dict) or "descr" not in value:
        return None
    return value


def _drop_long_suffix(text: str) -> str:
    """`2L` → `2`: the `L` name token right after a number token is dropped, nothing else changes."""
    out: list[tokenize.TokenInfo] = []
    after_number = False
    for tok in tokenize.generate_tokens(io.StringIO(text).readline):
        if after_number and tok.type == tokenize.NAME and tok.string in ("L", "l"):
            after_number = False
            continue
        out.append(tok)
        after_number = tok.type == tokenize.NUMBER
    return tokenize.untokenize(out)


def _has_object(descr: Any, depth: int = 0) -> bool:
    if depth > 32:
        return True
    if isinstance(descr, str):
        return descr.lstrip("|<>=").startswith("O")
    if isinstance(descr, list):
        return any(_has_object(field, depth + 1) for field in descr)
    if isinstance(descr, tuple):
        return any(_has_object(part, depth + 1) for part in descr[1:2])
    return False
