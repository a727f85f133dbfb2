"""What format a byte stream is, from its first bytes (magic numbers), never from its name.

The name is used only where a format has no magic at all (`saved_model.pb`, ONNX protobufs) and
to decide whether an unrecognised file should have been a model (`.pt` holding a PNG).
"""

from __future__ import annotations

import struct
from enum import StrEnum

from shareguard.models.formats.graphdef import looks_like_graphdef
from shareguard.models.formats.pickle_walker import probe_pickle, walks_as_pickle
from shareguard.models.formats.protowire import looks_like_onnx


class Kind(StrEnum):
    ZIP = "zip"
    TAR = "tar"
    GZIP = "gzip"
    BZ2 = "bz2"
    XZ = "xz"
    LZMA = "lzma"
    LZ4 = "lz4"
    ZSTD = "zstd"
    ZLIB = "zlib"
    JOBLIB_ZF = "joblib-zf"
    SEVEN_ZIP = "7z"
    RAR = "rar"
    PICKLE = "pickle"
    NPY = "npy"
    HDF5 = "hdf5"
    GGUF = "gguf"
    SAFETENSORS = "safetensors"
    ONNX = "onnx"
    SAVEDMODEL = "savedmodel"
    GRAPHDEF = "graphdef"
    KERAS_CONFIG = "keras-config"
    UNKNOWN = "unknown"


COMPRESSED = frozenset({Kind.GZIP, Kind.BZ2, Kind.XZ, Kind.LZMA, Kind.LZ4, Kind.ZSTD, Kind.ZLIB, Kind.JOBLIB_ZF})
ARCHIVES = frozenset({Kind.ZIP, Kind.TAR})
UNSUPPORTED = frozenset({Kind.SEVEN_ZIP, Kind.RAR})

# Extensions under which a file is expected to be a model (an unrecognised one is reported).
MODEL_EXTENSIONS = frozenset(
    {
        ".pkl",
        ".pickle",
        ".pt",
        ".pth",
        ".ckpt",
        ".bin",
        ".joblib",
        ".jbl",
        ".npy",
        ".npz",
        ".h5",
        ".hdf5",
        ".keras",
        ".safetensors",
        ".gguf",
        ".onnx",
        ".mar",
        ".nemo",
        ".dill",
        ".sav",
    }
)
# Extensions under which the loader would unpickle whatever is there: walked even when the
# content does not look like a pickle (a malformed stream can still import a module).
PICKLE_EXTENSIONS = frozenset({".pkl", ".pickle", ".pt", ".pth", ".ckpt", ".bin", ".joblib", ".jbl", ".dill", ".sav"})


def suffix(name: str) -> str:
    base = name.rsplit("/", 1)[-1]
    return base[base.rfind(".") :].lower() if "." in base else ""


def sniff(head: bytes, name: str = "") -> Kind:
    """Classify by the first bytes (give at least 4 KiB; `name` only for magic-less formats)."""
    base = name.rsplit("/", 1)[-1].lower()
    if head.startswith((b"PK\x03\x04", b"PK\x05\x06", b"PK\x07\x08")):
        return Kind.ZIP
    if len(head) >= 262 and head[257:262] == b"ustar":
        return Kind.TAR
    if head.startswith(b"\x1f\x8b"):
        return Kind.GZIP
    if head.startswith(b"BZh") and len(head) > 3 and head[3:4].isdigit():
        return Kind.BZ2
    if head.startswith(b"\xfd7zXZ\x00"):
        return Kind.XZ
    if head.startswith(b"\x04\x22\x4d\x18"):
        return Kind.LZ4
    if head.startswith(b"\x28\xb5\x2f\xfd"):
        return Kind.ZSTD
    if head.startswith(b"7z\xbc\xaf\x27\x1c"):
        return Kind.SEVEN_ZIP
    if head.startswith(b"Rar!\x1a\x07"):
        return Kind.RAR
    if head.startswith(b"\x93NUMPY"):
        return Kind.NPY
    if head.startswith(b"\x89HDF\r\n\x1a\n"):
        return Kind.HDF5
    if head.startswith(b"GGUF"):
        return Kind.GGUF
    if head.startswith(b"ZF0x"):
        return Kind.JOBLIB_ZF
    if _is_safetensors(head):
        return Kind.SAFETENSORS
    if head[:1] == b"\x80" and len(head) >= 2 and head[1] <= 5:
        return Kind.PICKLE
    if _is_zlib(head):
        return Kind.ZLIB
    if _is_lzma_alone(head):
        return Kind.LZMA
    if base == "saved_model.pb":
        return Kind.SAVEDMODEL
    if base.endswith(".pb") and looks_like_graphdef(head):
        return Kind.GRAPHDEF
    if base == "config.json" and b'"class_name"' in head and b'"config"' in head:
        return Kind.KERAS_CONFIG
    if (base.endswith(".onnx") or head[:1] == b"\x08") and looks_like_onnx(head):
        return Kind.ONNX
    if probe_pickle(head):
        return Kind.PICKLE
    if pickle_offset(head) is not None:
        return Kind.PICKLE  # behind a short header (a cache file's hash line): its loader unpickles it
    return Kind.UNKNOWN


SNIFF_HEAD = 4096
"""Bytes `sniff` wants to see."""
PREFIX_WINDOW = 130
"""How far into a file a pickle behind a short header is looked for (a SHA-512 hex line and its line break)."""


def pickle_offset(head: bytes) -> int | None:
    """Where a pickle stream starts behind a short prefix, or None (0 never: that is a plain pickle).

    A protocol 2-5 header that walks cleanly for a few opcodes, within the first `PREFIX_WINDOW` bytes:
    right after a line break ending a printable text header (a hash or version line), or anywhere for
    a framed protocol 4/5 pickle (`\x80\x04\x95` + 8-byte frame length, a binary length header)."""
    window = head[: PREFIX_WINDOW + 2]
    i = window.find(b"\x80", 1)
    while 0 < i <= PREFIX_WINDOW:
        if i + 1 < len(head) and 2 <= head[i + 1] <= 5:
            after_line = head[i - 1 : i] == b"\n" and _printable(head[: i - 1])
            framed = head[i + 1] >= 4 and head[i + 2 : i + 3] == b"\x95"
            if (after_line or framed) and _walks(head[i:]):
                return i
        i = window.find(b"\x80", i + 1)
    return None


def _printable(text: bytes) -> bool:
    return all(0x20 <= b < 0x7F or b in (0x09, 0x0D) for b in text)


def _walks(data: bytes, min_opcodes: int = 4) -> bool:
    return walks_as_pickle(data, min_opcodes=min_opcodes)


def _is_safetensors(head: bytes) -> bool:
    if len(head) < 10:
        return False
    (n,) = struct.unpack("<Q", head[:8])
    return 2 <= n <= 100 * 1024 * 1024 and head[8:9] == b"{" and (head[9:10] in b'"} \n\t\r')


def _is_zlib(head: bytes) -> bool:
    if len(head) < 2 or head[0] != 0x78 or head[1] not in (0x01, 0x5E, 0x9C, 0xDA):
        return False
    return bool((head[0] * 256 + head[1]) % 31 == 0)


def _is_lzma_alone(head: bytes) -> bool:
    # .lzma ("alone") header: properties byte, 4-byte dictionary size, 8-byte size (often -1).
    if len(head) < 13 or head[0] != 0x5D:
        return False
    dict_size = int.from_bytes(head[1:5], "little")
    return dict_size >= 4096 and (dict_size & (dict_size - 1) == 0 or dict_size & 0xFFFF == 0)
