"""Stream one layer once: verify its digest, decompress, walk its tar, read only wanted files.

Entries come out normalised (POSIX, relative to the root, no leading slash). Whiteouts and opaque
directories come out as their own kinds for the applier. Hostile members are reported through
`on_issue` and skipped; a corrupt stream raises `LayerError` (the caller drops the whole layer).

A wanted body over `spool_over` bytes is not held in memory when a `spool_dir` is given: it is copied
in 1 MiB chunks to a temporary file there (`LayerEntry.spooled`), which the consumer owns from then on
and must delete (`core/dispatch.PathDispatch.run` does, when the analyzers are done).
"""

from __future__ import annotations

import os
import posixpath
import tempfile
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from shareguard.sources.image import mediatypes as mt
from shareguard.sources.image.decompress import DecompressError, decompressed
from shareguard.sources.image.digest import DigestMismatch, HashingReader
from shareguard.sources.image.model import LayerRef
from shareguard.sources.image.tarstream import (
    BLOCKDEV,
    CHARDEV,
    DIRECTORY,
    FIFO,
    HARDLINK,
    REGULAR,
    SYMLINK,
    CorruptLayer,
    TarStream,
)

FILE, DIR, LINK, HLINK, WHITEOUT, OPAQUE = "file", "dir", "symlink", "hardlink", "whiteout", "opaque"
WHITEOUT_PREFIX = ".wh."
OPAQUE_MARKER = ".wh..wh..opq"
MAX_RATIO = 1100
"""Past max(`max_decompressed_bytes`, this × the blob size) a compressed layer is a decompression bomb.
gzip cannot expand more than ~1032:1, so this catches zstd bombs (zstd reaches far higher ratios), never
gzip ones: every layer is also bounded by the inflated-bytes budgets of its layer and its image."""

SPOOL_CHUNK = 1 << 20
SPOOL_OVER = 8 * 1024 * 1024
"""Default size past which a wanted body is spooled to a file (when the caller gives a directory)."""

IssueSink = Callable[[str, str, bool], None]
"""(path, message, is_error)."""
SpecialSink = Callable[[str, str], None]
"""(path, what): a FIFO or device, never read (the consumer reports it at a path an analyzer wants)."""


class LayerError(Exception):
    """The layer as a whole cannot be read (corrupt, truncated, digest mismatch, unsupported)."""


@dataclass(slots=True)
class InflateBudget:
    """Decompressed bytes left to the layers of one image still to be read (shared across its layers):
    however each layer inflates, an image costs at most `left` bytes of inflation (CPU time)."""

    left: int
    total: int


@dataclass(slots=True)
class LayerEntry:
    path: str
    kind: str
    size: int = 0
    link: str = ""
    """Symlink target as written, or a hard link's normalised target path."""
    content: bytes | None = None
    spooled: Path | None = None
    """A wanted body too large to hold in memory, in a temporary file the consumer deletes."""


def spool_body(stream: TarStream, size: int, directory: Path) -> Path:
    """Copy the current member's body (`size` bytes) to a new file in `directory`, chunk by chunk.

    The chunks come from the stream's buffer (`TarStream.read_chunk`, at most one buffer at a time), so
    memory stays at one chunk whatever the member's size; on any failure the file is removed."""
    directory.mkdir(parents=True, exist_ok=True)
    fd, name = tempfile.mkstemp(prefix="member.", suffix=".tmp", dir=directory)
    path = Path(name)
    try:
        with os.fdopen(fd, "wb") as fh:
            left = size
            while left > 0:
                chunk = stream.read_chunk(min(left, SPOOL_CHUNK))
                if not chunk:
                    raise CorruptLayer("member body shorter than its declared size")
                left -= len(chunk)
                fh.write(chunk)
    except BaseException:
        path.unlink(missing_ok=True)
        raise
    return path


def normalise(name: str) -> str | None:
    """Root-relative POSIX path; None when the name is absolute or climbs out of the root."""
    if name.startswith("./"):
        name = name[2:]
    if name.startswith("/") or "\0" in name:
        return None
    norm = posixpath.normpath(name) if ("//" in name or "/." in name or name.startswith(".")) else name.rstrip("/")
    if norm == ".." or norm.startswith("../"):
        return None
    return "" if norm == "." else norm


def symlink_escapes(path: str, target: str) -> bool:
    """True when a relative symlink climbs above the root (absolute targets resolve inside it)."""
    if target.startswith("/"):
        return False
    depth = path.count("/")
    for part in target.split("/"):
        if part == "..":
            depth -= 1
            if depth < 0:
                return True
        elif part not in ("", "."):
            depth += 1
    return False


def stream_layer(
    layer: LayerRef,
    wants: Callable[[str, int], bool],
    *,
    max_member_bytes: int,
    max_members: int,
    max_decompressed_bytes: int,
    on_issue: IssueSink,
    parallel: bool = True,
    ring: list[bytearray | None] | None = None,
    spool_dir: Path | None = None,
    spool_over: int = SPOOL_OVER,
    on_special: SpecialSink | None = None,
    max_layer_bytes: int | None = None,
    image_budget: InflateBudget | None = None,
) -> Iterator[LayerEntry]:
    """`ring`: decompression buffers the caller keeps across the layers it streams one after another;
    `spool_dir`: where wanted bodies over `spool_over` bytes are spooled (None: always in memory);
    `on_special`: told of FIFOs and devices (never read); `max_layer_bytes`: decompressed bytes this layer
    may inflate to; `image_budget`: what is left of its image's, charged with what this layer read."""
    if layer.media_type is not None and layer.media_type not in mt.LAYER_TYPES:
        raise LayerError(f"unsupported layer media type {layer.media_type!r}")
    try:
        with ExitStack() as stack:
            raw = stack.enter_context(layer.opener())
            what = f"blob {layer.digest}"
            size = layer.size if layer.digest else None
            # With a decompression thread, the digest is computed in this thread (see HashingReader).
            hashed = HashingReader(raw, layer.digest, size, what, deferred=parallel)
            kind, reader = stack.enter_context(decompressed(hashed, parallel=parallel, settle=hashed.settle, ring=ring))
            source: Any = reader
            if layer.verify_uncompressed:
                source = HashingReader(reader, layer.diff_id, None, f"layer {layer.diff_id}")
            limit, over = _inflate_limit(kind, layer, max_decompressed_bytes, max_layer_bytes, image_budget)
            stream = TarStream(source, max_bytes=limit, over=over)
            spool = (spool_dir, spool_over) if spool_dir is not None else None
            try:
                yield from _members(stream, wants, max_member_bytes, max_members, on_issue, spool, on_special)
                stream.drain()
            finally:
                if image_budget is not None:
                    image_budget.left -= stream.bytes_read
    except (CorruptLayer, DecompressError, DigestMismatch) as exc:
        raise LayerError(str(exc)) from None
    except OSError as exc:
        raise LayerError(f"cannot read layer: {exc.strerror or exc}") from None


def _inflate_limit(
    kind: str,
    layer: LayerRef,
    max_decompressed_bytes: int,
    max_layer_bytes: int | None,
    image_budget: InflateBudget | None,
) -> tuple[int | None, str | None]:
    """The decompressed bytes a layer may read, and the error past them."""
    limits: list[tuple[int, str | None]] = []
    if kind != "tar":
        ratio = max(max_decompressed_bytes, MAX_RATIO * layer.size) if layer.size else max_decompressed_bytes
        limits.append((ratio, None))  # TarStream's own message: a decompression bomb
    elif max_layer_bytes is None and image_budget is None:
        limits.append((max_decompressed_bytes, None))
    if max_layer_bytes is not None:
        limits.append((max_layer_bytes, f"inflated past {max_layer_bytes} bytes (the per-layer budget)"))
    if image_budget is not None:
        if image_budget.left <= 0:
            raise CorruptLayer(f"the image inflated past {image_budget.total} bytes (the per-image budget); not read")
        limits.append((image_budget.left, f"the image inflated past {image_budget.total} bytes (the per-image budget)"))
    if not limits:
        return None, None
    return min(limits, key=lambda item: item[0])


def _members(
    stream: TarStream,
    wants: Callable[[str, int], bool],
    max_member_bytes: int,
    max_members: int,
    on_issue: IssueSink,
    spool: tuple[Path, int] | None = None,
    on_special: SpecialSink | None = None,
) -> Iterator[LayerEntry]:
    count = 0
    for member in stream:
        count += 1
        if count > max_members:
            raise CorruptLayer(f"more than {max_members} entries in one layer")
        path = normalise(member.name)
        if path is None:
            on_issue(member.name[:200], "hostile entry skipped: absolute path or path outside the root", True)
            continue
        if not path:
            continue
        # One substring test rules out whiteouts for nearly every member before the name is split.
        base = path.rsplit("/", 1)[-1] if WHITEOUT_PREFIX in path else ""
        if base.startswith(WHITEOUT_PREFIX):
            parent = path[: -len(base) - 1] if "/" in path else ""
            if base == OPAQUE_MARKER:
                yield LayerEntry(parent, OPAQUE)
            elif not base.startswith(".wh..wh."):  # other `.wh..wh.` names are AUFS bookkeeping
                target = base[len(WHITEOUT_PREFIX) :]
                if target in ("", ".", ".."):
                    on_issue(path, "hostile whiteout skipped: names no file", True)
                    continue
                yield LayerEntry(f"{parent}/{target}" if parent else target, WHITEOUT)
            continue
        t = member.type
        if t == REGULAR:
            entry = LayerEntry(path, FILE, member.size)
            if wants(path, member.size):
                if member.size > max_member_bytes:
                    on_issue(
                        path, f"file of {member.size} bytes is over the {max_member_bytes}-byte budget; not read", False
                    )
                elif spool is not None and member.size > spool[1]:
                    entry.spooled = spool_body(stream, member.size, spool[0])
                else:
                    entry.content = stream.read_body()
            yield entry
        elif t == DIRECTORY:
            yield LayerEntry(path, DIR)
        elif t == SYMLINK:
            if symlink_escapes(path, member.linkname):
                on_issue(path, f"symlink points outside the root ({member.linkname[:200]}); never followed", False)
            yield LayerEntry(path, LINK, 0, member.linkname)
        elif t == HARDLINK:
            link_target = normalise(member.linkname)
            if not link_target:
                on_issue(path, f"hostile hard link skipped: target {member.linkname[:200]!r} is outside the root", True)
                continue
            yield LayerEntry(path, HLINK, 0, link_target)
        elif t in (CHARDEV, BLOCKDEV):
            on_issue(path, "device file skipped", False)
            if on_special is not None:
                on_special(path, "character device" if t == CHARDEV else "block device")
        elif t == FIFO:
            if on_special is not None:
                on_special(path, "FIFO")
        else:
            on_issue(path, f"unsupported tar entry type {t!r} skipped", False)
