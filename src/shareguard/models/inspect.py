"""The dispatcher: sniff a byte stream's format and hand it to that format's reader.

Used for whole files and, recursively, for archive members and decompressed streams.
"""

from __future__ import annotations

import io
from typing import BinaryIO

from shareguard.models.formats import (
    archive,
    gguf,
    graphdef,
    keras,
    numpy,
    onnx,
    pickle_file,
    safetensors,
    savedmodel,
    torch_legacy,
)
from shareguard.models.formats.archive import Prefixed
from shareguard.models.formats.env import Env
from shareguard.models.formats.sniff import (
    COMPRESSED,
    MODEL_EXTENSIONS,
    PICKLE_EXTENSIONS,
    UNSUPPORTED,
    Kind,
    sniff,
    suffix,
)
from shareguard.models.sink import Where

SNIFF = 4096
NEEDS_SEEK = frozenset({Kind.ZIP, Kind.SAVEDMODEL, Kind.GRAPHDEF, Kind.ONNX, Kind.HDF5})


def inspect_stream(
    env: Env, where: Where, fh: BinaryIO, size: int | None, name: str, *, expect_trailing: bool = False
) -> None:
    seekable = _seekable(fh)
    if seekable:
        fh.seek(0)
        head = fh.read(SNIFF)
        fh.seek(0)
        stream: BinaryIO = fh
    else:
        head = fh.read(SNIFF)
        stream = Prefixed(head, fh)  # type: ignore[assignment]
    kind = sniff(head, name)
    ext = suffix(name)
    guessed = False
    if kind is Kind.UNKNOWN and ext in PICKLE_EXTENSIONS and head:
        kind, guessed = Kind.PICKLE, True  # a loader would unpickle it whatever it looks like
    if kind is Kind.PICKLE:
        if torch_legacy.is_legacy(head):
            torch_legacy.scan(env, where, stream, size)
            return
        if not pickle_file.scan(env, where, stream, size, name, expect_trailing=expect_trailing, guessed=guessed):
            _unrecognised(env, where, head, name)
        return
    if kind in NEEDS_SEEK and not seekable:
        data = _buffer(env, where, stream)
        if data is None:
            return
        stream, size = io.BytesIO(data), len(data)
    if kind is Kind.ZIP:
        archive.scan_zip(env, where, stream, size, name)
    elif kind is Kind.TAR:
        archive.scan_tar(env, where, stream, size, name)
    elif kind in COMPRESSED:
        archive.scan_compressed(env, where, stream, kind, name)
    elif kind in UNSUPPORTED:
        env.sink.add(
            "MODEL-013",
            where,
            title=f"{kind.value} archive: content not analysed",
            evidence=f"{kind.value} archive (unsupported container)",
            severity=None,
            key="unsupported",
        )
    elif kind is Kind.NPY:
        numpy.scan(env, where, stream, size, name)
    elif kind is Kind.HDF5:
        keras.scan_h5(env, where, stream, size, name)
    elif kind is Kind.KERAS_CONFIG:
        keras.scan_config_stream(env, where, stream, size)
    elif kind is Kind.SAFETENSORS:
        safetensors.scan(env, where, stream, size, name)
    elif kind is Kind.GGUF:
        gguf.scan(env, where, stream, size, name)
    elif kind is Kind.ONNX:
        onnx.scan(env, where, stream, size, name)
    elif kind is Kind.SAVEDMODEL:
        savedmodel.scan(env, where, stream, size, name)
    elif kind is Kind.GRAPHDEF:
        graphdef.scan(env, where, stream, size, name)
    elif where.member is None and ext in MODEL_EXTENSIONS:
        _unrecognised(env, where, head, name)


def _buffer(env: Env, where: Where, stream: BinaryIO) -> bytes | None:
    """Random-access formats inside a compressed stream are read into memory, within a budget."""
    data = stream.read(archive.NESTED_IN_MEMORY + 1)
    if len(data) > archive.NESTED_IN_MEMORY:
        env.sink.add(
            "MODEL-010",
            where,
            evidence=f"compressed content over {archive.NESTED_IN_MEMORY} bytes needs random access; not analysed",
            key="nested-size",
        )
        return None
    return data


def _unrecognised(env: Env, where: Where, head: bytes, name: str) -> None:
    what = _describe(head)
    env.sink.add(
        "MODEL-013",
        where,
        title=f"{suffix(name) or 'File'} is not a recognised model format ({what})",
        evidence=what,
        key="unrecognised",
    )


def _describe(head: bytes) -> str:
    known = {
        b"\x89PNG": "PNG image",
        b"\xff\xd8\xff": "JPEG image",
        b"GIF8": "GIF image",
        b"%PDF": "PDF document",
        b"\x7fELF": "ELF executable",
        b"MZ": "Windows executable",
        b"#!": "script",
        b"<": "markup",
        b"{": "JSON/text",
    }
    for magic, what in known.items():
        if head.startswith(magic):
            return what
    if not head:
        return "empty file"
    return f"unknown content starting {head[:8].hex()}"


def _seekable(fh: BinaryIO) -> bool:
    try:
        return bool(fh.seekable())
    except (AttributeError, OSError, ValueError):
        return False
