"""joblib specifics: array bytes written inline after a NumpyArrayWrapper's BUILD, and the old
`ZF` compressed header. (Compressed joblib files — zlib/gzip/bz2/xz/lzma/lz4 — are recognised by
their compressor's magic in sniff.py and decompressed as streams; see joblib/compressor.py.)"""

from __future__ import annotations

import re
from typing import Any

from shareguard.models.formats.pickle_walker import MAX_NESTED, DictV, Glob, Obj, PickleWalker, WalkError
from shareguard.models.formats.stream import ChunkedReader

WRAPPERS = ("joblib.numpy_pickle.NumpyArrayWrapper", "sklearn.externals.joblib.numpy_pickle.NumpyArrayWrapper")
# joblib < 0.9.3: b"ZF" + the hex length padded to len(hex(2**64)) (19), then a zlib stream.
ZF_HEADER_LEN = 2 + 19


def joblib_hooks() -> dict[str, Any]:
    return dict.fromkeys(WRAPPERS, skip_array)


def skip_array(obj: Obj, reader: ChunkedReader, walker: PickleWalker) -> None:
    """After a NumpyArrayWrapper's BUILD, joblib wrote the array: skip its bytes or walk its pickle."""
    state = obj.state
    if not isinstance(state, DictV):
        raise WalkError("joblib array wrapper without a state dict; its data cannot be followed")
    dtype = state.items.get("dtype")
    shape = state.items.get("shape")
    itemsize, has_object = _dtype_info(dtype)
    if has_object:
        # Object arrays are a nested protocol-5 pickle: walk it with the same findings.
        walker.nested += 1
        if walker.nested > MAX_NESTED:
            raise WalkError("joblib object arrays nested too deep")
        sub = PickleWalker(reader, walker.res)
        sub.build_hooks = walker.build_hooks
        sub.nested = walker.nested
        sub.walk_one()
        walker.nested -= 1
        return
    count = _count(shape)
    if itemsize is None or count is None:
        raise WalkError("joblib array with a shape/dtype the scan cannot size; the rest was not analysed")
    if isinstance(state.items.get("numpy_array_alignment_bytes"), int):
        reader.skip(reader.read_byte())
    reader.skip(count * itemsize)


def _count(shape: Any) -> int | None:
    if not isinstance(shape, tuple):
        return None
    n = 1
    for d in shape:
        if not isinstance(d, int) or isinstance(d, bool) or d < 0:
            return None
        n *= d
    return n


def _dtype_info(dtype: Any) -> tuple[int | None, bool]:
    if not (isinstance(dtype, Obj) and isinstance(dtype.origin, Glob) and dtype.origin.name == "dtype"):
        return None, False
    args = dtype.args if isinstance(dtype.args, tuple) else ()
    code = args[0] if args and isinstance(args[0], str) else ""
    st = dtype.state if isinstance(dtype.state, tuple) else ()
    flags = st[7] if len(st) > 7 and isinstance(st[7], int) else 0
    if code.startswith("O") or flags & 1:
        return None, True
    if len(st) > 5 and isinstance(st[5], int) and st[5] > 0:
        return st[5], False
    m = re.match(r"^[a-zA-Z]+(\d+)", code)
    return (int(m.group(1)), False) if m else (None, False)
