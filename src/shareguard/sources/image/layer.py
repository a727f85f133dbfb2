"""Stream one layer once: verify its digest, decompress, walk its tar, read only wanted files.

Entries come out normalised (POSIX, relative to the root, no leading slash). Whiteouts and opaque
directories come out as their own kinds for the applier. Hostile members are reported through
`on_issue` and skipped; a corrupt stream raises `LayerError` (the caller drops the whole layer).

A wanted body over `spool_over` bytes is not held in memory when a `spool_dir` is given: it is copied
in 1 MiB chunks to a temporary file there (`LayerEntry.spooled`), which the consumer owns from then on
and must delete (`core/dispatch.PathDispatch.run` does, when the analyzers are done).
"""

from __future__ import annotations

import functools
import os
import posixpath
import tempfile
import threading
from collections.abc import Callable, Iterator
from contextlib import ExitStack, suppress
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from shareguard.sources.image import mediatypes as mt
from shareguard.sources.image.decompress import DecompressError, decompressed
from shareguard.sources.image.digest import DigestMismatch, HashingReader
from shareguard.sources.image.libz import Ring
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


class InflateBudget:
    """Decompressed bytes the layers of one image may inflate in all (`total`), spent in layer order:
    however each layer inflates, an image costs at most about `total` bytes of inflation (CPU time).

    Layers may be read at once (`image/scan.apply_layers`). Each walk tells the budget its bytes so far
    every `CHECK_EVERY` bytes (`check`) and stops past what the layers before it leave now (`total` minus
    what they have inflated so far: at least what they will leave it, so a stop is always due). Whether
    a layer's read stands is decided in layer order (`settle`), exactly as a serial read would have:
    the outcome never depends on which thread ran faster."""

    def __init__(self, total: int) -> None:
        self.total = total
        self._lock = threading.Lock()
        self._used: dict[int, int] = {}
        """Layer index → bytes it inflated so far (its final count once its walk ended)."""
        self._limits: dict[int, int | None] = {}
        """Layer index → the lowest of its own limits (per-layer budget, ratio guard), None: none."""
        self._left = total
        """What the layers settled so far left (layer order)."""
        self._stopped = False

    def upper(self, index: int) -> int:
        """What the layers before `index` leave it, if they stopped now: an upper bound of its share."""
        with self._lock:
            return self.total - sum(n for i, n in self._used.items() if i < index)

    def start(self, index: int, own_limit: int | None) -> None:
        """Layer `index` starts its walk; raises `CorruptLayer` when nothing can be left to it."""
        with self._lock:
            self._limits[index] = own_limit
            self._used[index] = 0
        if self.upper(index) <= 0:
            raise CorruptLayer(self.spent())

    def check(self, index: int, read: int) -> None:
        """Layer `index` has inflated `read` bytes: raises `CorruptLayer` past its upper bound, or once the
        scan was stopped."""
        with self._lock:
            self._used[index] = read
        if self._stopped:
            raise CorruptLayer("not read to the end: the scan was stopped")
        if read > self.upper(index):
            raise CorruptLayer(self.over())

    def stop(self) -> None:
        """End the walks still running at their next check (within `CHECK_EVERY` bytes): the scan was
        interrupted (Ctrl-C, an error in another layer) and waits for them before it returns."""
        self._stopped = True

    def settle(self, index: int) -> str | None:
        """Call in layer order once layer `index`'s walk ended (read, failed or stopped): the image-budget
        error a serial read would have raised in it, or None (its own outcome stands)."""
        with self._lock:
            if index not in self._limits:
                return None  # it failed before its walk started (could not be opened): its own error
            read, own, left = self._used[index], self._limits[index], self._left
            self._left -= read
        if left <= 0:
            return self.spent()
        # Serially the layer's limit was the lowest of its own and what was left (a tie: its own).
        if read > left and (own is None or left < own):
            return self.over()
        return None

    def over(self) -> str:
        return f"the image inflated past {self.total} bytes (the per-image budget)"

    def spent(self) -> str:
        return f"{self.over()}; not read"


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


_PLAIN_START = frozenset(chr(c) for c in range(256)) - {".", "/", ""}
"""First characters after which a name needs no `posixpath.normpath` (with no `/.`, `//` or NUL in it)."""


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


class LayerSink(Protocol):
    """Where one layer's walk reports its members, in stream order (`walk_layer`): one call per member,
    no entry object in between (a layer lists ~200k of them)."""

    def wants(self, path: str, size: int) -> bool:
        """Whether the body of the regular file at `path` is to be read."""
        ...

    def file(self, path: str, size: int, content: bytes | Path | None) -> None:
        """A wanted regular file: its body, a spooled copy (a `Path` the sink deletes), or None when it
        was not read (over the member budget)."""
        ...

    def unwanted(self, path: str, size: int) -> None:
        """A regular file nobody wants (its body was skipped)."""
        ...

    def directory(self, path: str) -> None: ...

    def symlink(self, path: str, target: str) -> None: ...

    def hardlink(self, path: str, target: str) -> None:
        """`target` is normalised (root-relative)."""
        ...

    def whiteout(self, path: str) -> None: ...

    def opaque(self, path: str) -> None: ...

    def special(self, path: str, what: str) -> None:
        """A FIFO or device, never read."""
        ...

    def issue(self, path: str, message: str, is_error: bool) -> None: ...


class OpenedLayer:
    """A layer blob opened for reading: its file, the digest check and the decompressor, which works in
    another thread (or process) when `parallel`. An error while opening is kept and raised by its walk,
    as the error of this layer."""

    def __init__(
        self,
        layer: LayerRef,
        *,
        parallel: bool = True,
        ring: Ring | None = None,
    ) -> None:
        self.layer = layer
        self.kind = "tar"
        self.source: Any = None
        self.error: LayerError | None = None
        self._stack = ExitStack()
        try:
            if layer.media_type is not None and layer.media_type not in mt.LAYER_TYPES:
                raise LayerError(f"unsupported layer media type {layer.media_type!r}")
            stack = self._stack
            raw = stack.enter_context(layer.opener())
            what = f"blob {layer.digest}"
            size = layer.size if layer.digest else None
            # With a decompression thread, the digest is computed in this thread (see HashingReader).
            hashed = HashingReader(raw, layer.digest, size, what, deferred=parallel)
            self.kind, reader = stack.enter_context(
                decompressed(hashed, parallel=parallel, settle=hashed.settle, ring=ring)
            )
            self.source = reader
            if layer.verify_uncompressed:
                self.source = HashingReader(reader, layer.diff_id, None, f"layer {layer.diff_id}")
        except LayerError as exc:
            self.error = exc
        except (CorruptLayer, DecompressError, DigestMismatch) as exc:
            self.error = LayerError(str(exc))
        except OSError as exc:
            self.error = LayerError(f"cannot read layer: {exc.strerror or exc}")
        except BaseException:
            self._stack.close()
            raise
        if self.error is not None:
            self.close()

    def close(self) -> None:
        """Stop the decompressor (if still running) and close the blob."""
        with suppress(CorruptLayer, DecompressError, DigestMismatch, OSError):
            self._stack.close()  # closing an abandoned layer: nothing of it is used


def walk_layer(
    layer: LayerRef,
    sink: LayerSink,
    *,
    max_member_bytes: int,
    max_members: int,
    max_decompressed_bytes: int,
    parallel: bool = True,
    ring: Ring | None = None,
    spool_dir: Path | None = None,
    spool_over: int = SPOOL_OVER,
    max_layer_bytes: int | None = None,
    image_budget: InflateBudget | None = None,
    index: int = 0,
) -> None:
    """Stream one layer once, telling `sink` of each member. `ring`: decompression buffers shared by the
    layers of an image (read one after another or at once); `spool_dir`: where wanted bodies over
    `spool_over` bytes are spooled (None: always in memory); `max_layer_bytes`: decompressed bytes this
    layer may inflate to; `image_budget`: its image's, shared by its layers (`index`: this layer's place
    in the image; the caller settles the budget in layer order, see `InflateBudget`)."""
    opened = OpenedLayer(layer, parallel=parallel, ring=ring)
    try:
        if opened.error is not None:
            raise opened.error
        limit, over = _inflate_limit(
            opened.kind, layer, max_decompressed_bytes, max_layer_bytes, budgeted=image_budget is not None
        )
        checkpoint: Callable[[int], None] | None = None
        if image_budget is not None:
            image_budget.start(index, limit)
            checkpoint = functools.partial(image_budget.check, index)
        stream = TarStream(opened.source, max_bytes=limit, over=over, checkpoint=checkpoint)
        spool = (spool_dir, spool_over) if spool_dir is not None else None
        try:
            _walk(stream, sink, max_member_bytes, max_members, spool)
            stream.drain()
        finally:
            if image_budget is not None:
                with suppress(CorruptLayer):  # the final count; the walk's own outcome is raised
                    image_budget.check(index, stream.bytes_read)
        opened._stack.close()  # a decompressor's or digest's error at the end is this layer's
    except (CorruptLayer, DecompressError, DigestMismatch) as exc:
        raise LayerError(str(exc)) from None
    except OSError as exc:
        raise LayerError(f"cannot read layer: {exc.strerror or exc}") from None
    finally:
        opened.close()


class _Entries:
    """A `LayerSink` that keeps `LayerEntry`s (for `stream_layer`)."""

    def __init__(self, wants: Callable[[str, int], bool], on_issue: IssueSink, on_special: SpecialSink | None) -> None:
        self.entries: list[LayerEntry] = []
        self.wants = wants
        self.issue = on_issue
        self._on_special = on_special

    def file(self, path: str, size: int, content: bytes | Path | None) -> None:
        entry = LayerEntry(path, FILE, size)
        if isinstance(content, Path):
            entry.spooled = content
        else:
            entry.content = content
        self.entries.append(entry)

    def unwanted(self, path: str, size: int) -> None:
        self.entries.append(LayerEntry(path, FILE, size))

    def directory(self, path: str) -> None:
        self.entries.append(LayerEntry(path, DIR))

    def symlink(self, path: str, target: str) -> None:
        self.entries.append(LayerEntry(path, LINK, 0, target))

    def hardlink(self, path: str, target: str) -> None:
        self.entries.append(LayerEntry(path, HLINK, 0, target))

    def whiteout(self, path: str) -> None:
        self.entries.append(LayerEntry(path, WHITEOUT))

    def opaque(self, path: str) -> None:
        self.entries.append(LayerEntry(path, OPAQUE))

    def special(self, path: str, what: str) -> None:
        if self._on_special is not None:
            self._on_special(path, what)


def stream_layer(
    layer: LayerRef,
    wants: Callable[[str, int], bool],
    *,
    max_member_bytes: int,
    max_members: int,
    max_decompressed_bytes: int,
    on_issue: IssueSink,
    parallel: bool = True,
    ring: Ring | None = None,
    spool_dir: Path | None = None,
    spool_over: int = SPOOL_OVER,
    on_special: SpecialSink | None = None,
    max_layer_bytes: int | None = None,
    image_budget: InflateBudget | None = None,
    index: int = 0,
) -> Iterator[LayerEntry]:
    """`walk_layer` as `LayerEntry`s (kept until the layer ends: for tools and tests; a scan gives its
    own `LayerSink`). `on_special`: told of FIFOs and devices (never read)."""
    sink = _Entries(wants, on_issue, on_special)
    walk_layer(
        layer,
        sink,
        max_member_bytes=max_member_bytes,
        max_members=max_members,
        max_decompressed_bytes=max_decompressed_bytes,
        parallel=parallel,
        ring=ring,
        spool_dir=spool_dir,
        spool_over=spool_over,
        max_layer_bytes=max_layer_bytes,
        image_budget=image_budget,
        index=index,
    )
    yield from sink.entries


def _inflate_limit(
    kind: str,
    layer: LayerRef,
    max_decompressed_bytes: int,
    max_layer_bytes: int | None,
    *,
    budgeted: bool,
) -> tuple[int | None, str | None]:
    """The decompressed bytes a layer may read by its own limits, and the error past them (`budgeted`:
    its image's budget bounds it too, see `InflateBudget`)."""
    limits: list[tuple[int, str | None]] = []
    if kind != "tar":
        ratio = max(max_decompressed_bytes, MAX_RATIO * layer.size) if layer.size else max_decompressed_bytes
        limits.append((ratio, None))  # TarStream's own message: a decompression bomb
    elif max_layer_bytes is None and not budgeted:
        limits.append((max_decompressed_bytes, None))
    if max_layer_bytes is not None:
        limits.append((max_layer_bytes, f"inflated past {max_layer_bytes} bytes (the per-layer budget)"))
    if not limits:
        return None, None
    return min(limits, key=lambda item: item[0])


def _walk(
    stream: TarStream,
    sink: LayerSink,
    max_member_bytes: int,
    max_members: int,
    spool: tuple[Path, int] | None = None,
) -> None:
    count = 0
    wants, unwanted, issue = sink.wants, sink.unwanted, sink.issue
    for name, t, size, linkname in stream.members():
        count += 1
        if count > max_members:
            raise CorruptLayer(f"more than {max_members} entries in one layer")
        # `normalise`, skipped for the usual name (relative, no `.` component, no `//`, no NUL)
        if name[:1] in _PLAIN_START and "/." not in name and "//" not in name and "\0" not in name:
            path = name[:-1] if name[-1] == "/" else name
        else:
            normalised = normalise(name)
            if normalised is None:
                issue(name[:200], "hostile entry skipped: absolute path or path outside the root", True)
                continue
            path = normalised
        if not path:
            continue
        # One substring test rules out whiteouts for nearly every member before the name is split.
        if WHITEOUT_PREFIX in path and (base := path.rsplit("/", 1)[-1]).startswith(WHITEOUT_PREFIX):
            parent = path[: -len(base) - 1] if "/" in path else ""
            if base == OPAQUE_MARKER:
                sink.opaque(parent)
            elif not base.startswith(".wh..wh."):  # other `.wh..wh.` names are AUFS bookkeeping
                target = base[len(WHITEOUT_PREFIX) :]
                if target in ("", ".", ".."):
                    issue(path, "hostile whiteout skipped: names no file", True)
                    continue
                sink.whiteout(f"{parent}/{target}" if parent else target)
            continue
        if t == REGULAR:
            if not wants(path, size):
                unwanted(path, size)
                continue
            content: bytes | Path | None = None
            if size > max_member_bytes:
                issue(path, f"file of {size} bytes is over the {max_member_bytes}-byte budget; not read", False)
            elif spool is not None and size > spool[1]:
                content = spool_body(stream, size, spool[0])
            else:
                content = stream.read_body()
            sink.file(path, size, content)
        elif t == DIRECTORY:
            sink.directory(path)
        elif t == SYMLINK:
            if symlink_escapes(path, linkname):
                issue(path, f"symlink points outside the root ({linkname[:200]}); never followed", False)
            sink.symlink(path, linkname)
        elif t == HARDLINK:
            link_target = normalise(linkname)
            if not link_target:
                issue(path, f"hostile hard link skipped: target {linkname[:200]!r} is outside the root", True)
                continue
            sink.hardlink(path, link_target)
        elif t in (CHARDEV, BLOCKDEV):
            issue(path, "device file skipped", False)
            sink.special(path, "character device" if t == CHARDEV else "block device")
        elif t == FIFO:
            sink.special(path, "FIFO")
        else:
            issue(path, f"unsupported tar entry type {t!r} skipped", False)
