"""Archives and compressed streams, analysed in place (nothing is extracted to disk).

zip: the central directory is read with `zipfile`, but members are read RAW from their local
headers (flags and CRCs are not trusted: PyTorch ignores them too, and scanners that stop at a
CRC error or an 'encrypted' bit are bypassed that way). Only members that are pickles by name or
by their first bytes are read; PyTorch tensor storages (`<archive>/data/<n>`) never are.
tar: walked member by member with `tarfile` (no extraction, so path traversal is moot).
gzip/bz2/xz/lzma/lz4/zstd/zlib: decompressed as a stream under the decompression budget.
Nesting is bounded by `budgets.max_archive_depth`; bombs by size, ratio and total output.
"""

from __future__ import annotations

import io
import json
import struct
import tarfile
import zipfile
import zlib
from typing import Any, BinaryIO, cast

from shareguard.core.errors import BudgetExceeded
from shareguard.models.formats.blob import CorruptData, DecompressingReader, Window
from shareguard.models.formats.env import Env
from shareguard.models.formats.sniff import PICKLE_EXTENSIONS, Kind, sniff, suffix
from shareguard.models.sink import Where

NESTED_IN_MEMORY = 256 * 1024 * 1024
"""A compressed nested archive is buffered in memory up to this size to be seekable."""
_ZIP_METHODS = {zipfile.ZIP_STORED: None, zipfile.ZIP_DEFLATED: "deflate", zipfile.ZIP_BZIP2: "bz2", 14: "lzma-zip"}
_TORCH_TENSOR_DIRS = ("/data/", "/.data/")
_INTERESTING_NAMES = (".pkl", ".pickle", ".joblib", ".npy", ".pt", ".pth", ".ckpt", ".bin", ".h5", ".keras", ".onnx")


def depth_ok(env: Env, where: Where) -> bool:
    limit = env.settings.budgets.max_archive_depth
    if where.depth > limit:
        env.sink.add(
            "MODEL-011",
            where,
            evidence=f"nesting depth {where.depth} over the limit of {limit}",
            key="depth",
        )
        return False
    return True


def scan_zip(env: Env, where: Where, fh: BinaryIO, size: int | None, name: str) -> None:
    try:
        zf = zipfile.ZipFile(fh)
    except (
        zipfile.BadZipFile,
        OSError,
        ValueError,
        EOFError,
        struct.error,
        NotImplementedError,
        KeyError,
        IndexError,
        OverflowError,
    ) as exc:
        env.sink.add("MODEL-003", where, title=f"Unreadable zip archive: {exc}", evidence=str(exc), key="zip")
        return
    infos = zf.infolist()
    budgets = env.settings.budgets
    if len(infos) > budgets.max_archive_members:
        env.sink.add(
            "MODEL-010",
            where,
            evidence=f"{len(infos)} members, over the limit of {budgets.max_archive_members}",
            key="members",
        )
        infos = infos[: budgets.max_archive_members]
    names = [i.filename for i in infos]
    torch_zip = any(n.endswith("/data.pkl") or n == "data.pkl" for n in names)
    keras_zip = "config.json" in names and ("metadata.json" in names or "model.weights.h5" in names)
    keras_version = _keras_version(env, where, fh, zf) if keras_zip else None
    for info in infos:
        if not info.filename or info.filename.endswith("/"):
            continue
        if (
            torch_zip
            and any(d in f"/{info.filename}" for d in _TORCH_TENSOR_DIRS)
            and not info.filename.endswith(".pkl")
        ):
            continue  # tensor storages: raw bytes torch never unpickles
        if keras_zip and info.filename == "config.json":
            from shareguard.models.formats import keras

            _with_member(env, where, fh, info, lambda f, w, s: keras.scan_config_stream(env, w, f, s, keras_version))
            continue
        _scan_member(env, where, fh, info)


def _keras_version(env: Env, where: Where, fh: BinaryIO, zf: zipfile.ZipFile) -> str | None:
    try:
        info = zf.getinfo("metadata.json")
    except KeyError:
        return None
    opened = _member_stream(env, where, fh, info)
    if opened is None:
        return None
    try:
        meta = json.loads(opened[0].read(1 << 20))
    except (ValueError, CorruptData, BudgetExceeded):
        return None
    version = meta.get("keras_version") if isinstance(meta, dict) else None
    return version if isinstance(version, str) else None


def _member_stream(env: Env, where: Where, fh: BinaryIO, info: zipfile.ZipInfo) -> tuple[BinaryIO, int] | None:
    """A raw reader for one member's data, decompressed when needed; None (with a finding) if unreadable."""
    member = where.child(info.filename)
    try:
        fh.seek(info.header_offset)
        local = fh.read(30)
        if len(local) < 30 or local[:4] != b"PK\x03\x04":
            raise ValueError("no local file header at the central directory's offset")
        name_len, extra_len = struct.unpack("<HH", local[26:30])
    except (OSError, ValueError, OverflowError, struct.error) as exc:
        env.sink.add("MODEL-012", member, evidence=str(exc), key="header")
        return None
    start = info.header_offset + 30 + name_len + extra_len
    raw = Window(fh, start, info.compress_size)
    if info.flag_bits & 0x1:
        env.sink.add(
            "MODEL-012",
            member,
            title="Archive member is flagged as encrypted; its raw bytes were analysed",
            evidence=f"general purpose flag 0x{info.flag_bits:04x}",
            key="encrypted",
        )
    method = info.compress_type
    if method not in _ZIP_METHODS:
        env.sink.add("MODEL-012", member, evidence=f"unsupported compression method {method}", key="method")
        return None
    kind = _ZIP_METHODS[method]
    if kind is None:
        return io.BufferedReader(raw, 1 << 16), info.compress_size
    ratio_limit = env.budget.max_ratio
    if info.file_size > env.settings.budgets.max_member_bytes or (
        info.compress_size
        and info.file_size > env.budget.ratio_floor
        and info.file_size / info.compress_size > ratio_limit
    ):
        env.sink.add(
            "MODEL-010",
            member,
            evidence=f"declares {info.file_size} bytes from {info.compress_size} compressed",
            key="declared",
        )
        return None
    reader = DecompressingReader(io.BufferedReader(raw, 1 << 16), kind, env.budget, what=info.filename)
    return cast(BinaryIO, reader), info.file_size


def _with_member(env: Env, where: Where, fh: BinaryIO, info: zipfile.ZipInfo, fn: object) -> None:
    opened = _member_stream(env, where, fh, info)
    if opened is None:
        return
    stream, size = opened
    try:
        fn(stream, where.child(info.filename), size)  # type: ignore[operator]
    except BudgetExceeded as exc:
        env.sink.add("MODEL-010", where.child(info.filename), evidence=exc.message, key="budget")
    except CorruptData as exc:
        env.sink.add("MODEL-012", where.child(info.filename), evidence=str(exc), key="corrupt")


def _scan_member(env: Env, where: Where, fh: BinaryIO, info: zipfile.ZipInfo) -> None:
    member = where.child(info.filename)
    opened = _member_stream(env, where, fh, info)
    if opened is None:
        return
    stream, size = opened
    try:
        head = stream.read(4096)
        kind = sniff(head, info.filename)
        wanted = kind is not Kind.UNKNOWN or suffix(info.filename) in PICKLE_EXTENSIONS
        if not wanted:
            return
        if kind in (Kind.ZIP, Kind.SEVEN_ZIP) or kind is Kind.TAR:
            if not depth_ok(env, member):
                return
            data = _buffer(env, member, head, stream)
            if data is None:
                return
            env.inspect(env, member, io.BytesIO(data), len(data), info.filename)
            return
        if not depth_ok(env, member):
            return
        env.inspect(env, member, cast(BinaryIO, Prefixed(head, stream)), size, info.filename)
        if isinstance(stream, DecompressingReader):
            _drain_crc(stream, info, env, member)
    except BudgetExceeded as exc:
        env.sink.add("MODEL-010", member, evidence=exc.message, key="budget")
    except CorruptData as exc:
        env.sink.add("MODEL-012", member, evidence=str(exc), key="corrupt")


def _drain_crc(stream: DecompressingReader, info: zipfile.ZipInfo, env: Env, member: Where) -> None:
    """The walker may stop early; CRC is only compared when the whole member was decompressed."""
    if stream.read(1):
        return
    if stream.produced == info.file_size and (stream.crc & 0xFFFFFFFF) != info.CRC:
        env.sink.add(
            "MODEL-012",
            member,
            title="Archive member fails its CRC check; its bytes were analysed anyway",
            evidence=f"CRC 0x{stream.crc & 0xFFFFFFFF:08x}, directory says 0x{info.CRC:08x}",
            key="crc",
        )


def _buffer(env: Env, where: Where, head: bytes, stream: BinaryIO) -> bytes | None:
    parts = [head]
    total = len(head)
    while True:
        chunk = stream.read(1 << 20)
        if not chunk:
            break
        total += len(chunk)
        if total > NESTED_IN_MEMORY:
            env.sink.add(
                "MODEL-010",
                where,
                evidence=f"nested archive over {NESTED_IN_MEMORY} bytes was not analysed",
                key="nested-size",
            )
            return None
        parts.append(chunk)
    return b"".join(parts)


class Prefixed(io.RawIOBase):
    """Bytes already read (the sniffed head) followed by the rest of a stream."""

    def __init__(self, head: bytes, rest: BinaryIO) -> None:
        self._head = head
        self._rest = rest
        self._seek_ok = rest.seekable()
        self._pos = 0

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return self._seek_ok

    def tell(self) -> int:
        return self._pos

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        if not self._seek_ok:
            raise io.UnsupportedOperation("seek")
        if whence == io.SEEK_END:
            end = self._rest.seek(0, io.SEEK_END)
            offset = end + offset
        elif whence == io.SEEK_CUR:
            offset = self._pos + offset
        self._pos = max(0, offset)
        if self._pos >= len(self._head):
            self._rest.seek(self._pos)
        return self._pos

    def read(self, size: int = -1) -> bytes:
        if size is None or size < 0:
            size = 1 << 62
        out = b""
        if self._pos < len(self._head):
            out = self._head[self._pos : self._pos + size]
            self._pos += len(out)
            size -= len(out)
            if size > 0 and self._seek_ok:
                self._rest.seek(self._pos)
        if size > 0:
            more = self._rest.read(min(size, 1 << 24))
            self._pos += len(more)
            out += more
        return out

    def readinto(self, b: Any) -> int:
        data = self.read(len(b))
        b[: len(data)] = data
        return len(data)


def scan_tar(env: Env, where: Where, fh: BinaryIO, size: int | None, name: str) -> None:
    """Walk a tar member by member. A tar on disk is read with seeks (`r:`: skipped members are seeked
    over); one inside a compressed stream (.tar.gz/.tar.bz2/.tar.xz/…, inflated by `DecompressingReader`
    under the decompression budget and ratio) is read as a stream (`r|`), never seeked. The same budgets
    as zip: member count, declared bytes per member, nesting depth; a truncated or corrupt stream is a
    part not analysed, with every member before it analysed."""
    budgets = env.settings.budgets
    streamed = not _seekable(fh)
    meter = Metered(fh) if streamed else None
    try:
        tf = tarfile.open(fileobj=meter or fh, mode="r|" if streamed else "r:")  # noqa: SIM115 - closed in the finally below
    except (tarfile.TarError, OSError, EOFError) as exc:
        env.sink.add("MODEL-003", where, title=f"Unreadable tar archive: {exc}", evidence=str(exc), key="tar")
        return
    members = 0
    try:
        while True:
            try:
                ti = tf.next()
            except (tarfile.TarError, OSError, EOFError) as exc:
                env.sink.add("MODEL-003", where, title=f"Corrupt tar archive: {exc}", evidence=str(exc), key="tar-next")
                return
            if ti is None:
                break
            if meter is not None:
                # What the next header may read: this member's blocks, then headers within the budget.
                meter.limit = meter.total + tarfile.BLOCKSIZE * -(-ti.size // tarfile.BLOCKSIZE) + TAR_HEADER_BYTES
            members += 1
            if members > budgets.max_archive_members:
                env.sink.add(
                    "MODEL-010",
                    where,
                    evidence=f"more than {budgets.max_archive_members} tar members; the rest not analysed",
                    key="members",
                )
                return
            if not ti.isfile():
                continue
            member = where.child(ti.name)
            if ti.size > budgets.max_member_bytes:
                env.sink.add(
                    "MODEL-010",
                    member,
                    evidence=f"declares {ti.size} bytes, over the per-member limit of {budgets.max_member_bytes}",
                    key="declared",
                )
                continue
            if not depth_ok(env, member):
                continue
            f = tf.extractfile(ti)
            if f is None:
                continue
            # Legacy torch tar checkpoints: `storages`/`tensors` hold raw data after their pickles.
            expect_trailing = ti.name in ("storages", "tensors")
            stream = cast(BinaryIO, Forward(f)) if streamed else cast(BinaryIO, f)
            try:
                env.inspect(env, member, stream, ti.size, ti.name, expect_trailing=expect_trailing)
            except (tarfile.TarError, EOFError) as exc:
                env.sink.add(
                    "MODEL-003", member, title=f"Corrupt tar member: {exc}", evidence=str(exc), key="tar-member"
                )
    finally:
        tf.close()


def _seekable(fh: BinaryIO) -> bool:
    try:
        return bool(fh.seekable())
    except (AttributeError, OSError, ValueError):
        return False


TAR_HEADER_BYTES = 16 * 1024 * 1024
"""Bytes a streamed tar's headers (pax records, GNU long names) may take between two members: tarfile
reads such a record whole into memory, so a huge declared one is a part not analysed, not a blow-up."""


class Metered(io.RawIOBase):
    """The source of a streamed tar: counts what tarfile reads and stops it past `limit`."""

    def __init__(self, fh: BinaryIO) -> None:
        self._fh = fh
        self.total = 0
        self.limit = TAR_HEADER_BYTES

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return False

    def read(self, size: int = -1) -> bytes:
        if self.total > self.limit + tarfile.RECORDSIZE:
            raise BudgetExceeded(f"tar header records over {TAR_HEADER_BYTES} bytes (pax or long-name data)")
        data: bytes = self._fh.read(size if size is not None and size >= 0 else tarfile.RECORDSIZE)
        self.total += len(data)
        return data

    def readinto(self, b: Any) -> int:
        data = self.read(len(b))
        b[: len(data)] = data
        return len(data)


class Forward(io.RawIOBase):
    """A forward-only view of a stream-mode tar member (whose file object cannot even say it is not
    seekable): readers see a plain non-seekable stream."""

    def __init__(self, fh: Any) -> None:
        self._fh = fh

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return False

    def read(self, size: int = -1) -> bytes:
        data: bytes = self._fh.read(size if size is not None and size >= 0 else -1)
        return data

    def readinto(self, b: Any) -> int:
        data = self.read(len(b))
        b[: len(data)] = data
        return len(data)


ZF_HEADER_LEN = 2 + 19
"""joblib < 0.10's compressed files (`numpy_pickle_compat.write_zfile`): b"ZF", the inflated length as
`0x…` hex left-justified to 19 characters (`len(hex(2**64))`), then one zlib stream; joblib <= 0.8.4 on
Python 2 wrote one more space."""


def scan_compressed(env: Env, where: Where, fh: BinaryIO, kind: Kind, name: str) -> None:
    inner = where.compressed(kind.value)
    if not depth_ok(env, inner):
        return
    codec = {Kind.JOBLIB_ZF: "zlib"}.get(kind, kind.value)
    if kind is Kind.JOBLIB_ZF:
        opened = _joblib_zf(env, inner, fh, name)
        if opened is None:
            return
        fh = opened
    reader = DecompressingReader(fh, codec, env.budget, what=f"{kind.value} stream")
    stream = cast(BinaryIO, reader)
    try:
        head = stream.read(4096)
        inner_name = (
            name[: -len(suffix(name))]
            if suffix(name) in (".gz", ".z", ".bz2", ".xz", ".lzma", ".lz4", ".zst")
            else name
        )
        kind2 = sniff(head, inner_name)
        if kind2 in (Kind.ZIP,):
            data = _buffer(env, inner, head, stream)
            if data is not None:
                env.inspect(env, inner, io.BytesIO(data), len(data), inner_name)
        else:
            env.inspect(env, inner, cast(BinaryIO, Prefixed(head, stream)), None, inner_name)
    except BudgetExceeded as exc:
        env.sink.add("MODEL-010", inner, evidence=exc.message, key="budget")
    except CorruptData as exc:
        env.sink.add("MODEL-003", inner, title=f"Corrupt compressed data: {exc}", evidence=str(exc), key="corrupt")
    except zlib.error as exc:
        env.sink.add("MODEL-003", inner, title=f"Corrupt compressed data: {exc}", evidence=str(exc), key="corrupt")
    else:
        if reader.truncated:
            env.sink.not_analysed(
                inner, f"{kind.value} stream truncated: the data ends before the compressed stream does"
            )


def _joblib_zf(env: Env, inner: Where, fh: BinaryIO, name: str) -> BinaryIO | None:
    """The zlib stream of a joblib `ZF` file, past its header; None when there is nothing to analyse
    (an array data file) or the header is unusable (a part not analysed)."""
    header = fh.read(ZF_HEADER_LEN)
    length_text = header[2:].strip()
    if len(header) < ZF_HEADER_LEN or not length_text.startswith(b"0x"):
        env.sink.not_analysed(inner, f"joblib ZF header unreadable: {header!r}")
        return None
    try:
        length = int(length_text, 16)
    except ValueError:
        env.sink.not_analysed(inner, f"joblib ZF header unreadable: {header!r}")
        return None
    if name.lower().endswith(".npy.z"):
        # `<file>_NN.npy.z`: an array's raw bytes, read by the main pickle's ZNDArrayWrapper with
        # ndarray.__setstate__ (never unpickled); the main pickle is what is analysed.
        return None
    limit = min(env.settings.budgets.max_member_bytes, env.budget.remaining)
    if length > limit:
        env.sink.add(
            "MODEL-010",
            inner,
            evidence=f"joblib ZF header declares {length} inflated bytes, over the limit of {limit}",
            key="declared",
        )
        return None
    nxt = fh.read(1)
    if nxt == b" " or not nxt:
        return fh
    return cast(BinaryIO, Prefixed(nxt, cast(BinaryIO, Forward(fh))))
