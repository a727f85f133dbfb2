"""Layer decompression, chosen by magic bytes (not by media type, which registries get wrong).

Decompression runs on another core while Python parses the tar: gzip in a worker thread calling
libz directly (`libz.py`; a `zlib` module thread where libz cannot be loaded), zstd through the `zstd` tool when installed (else a
python-zstandard thread). Output is handed over in bounded chunks, so a decompression bomb
costs time, never memory or disk. The blob's digest is computed by the consuming thread
(`settle`), off the decompressor's critical path.

Measured alternatives not kept (benchmarks/image.md): a child process writing to a pipe (the pipe
copies were slower than zlib) or to shared memory (slower overall: the child blocked on the parser in
small-file regions and the extra process competed for the two cores).
"""

from __future__ import annotations

import fcntl
import queue
import shutil
import subprocess
import threading
import zlib
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from typing import Any

from shareguard.sources.image.libz import LibzReader, Ring
from shareguard.sources.image.libz import load as load_libz
from shareguard.sources.image.streams import GZIP_MAGIC, RawReader, ViewReader
from shareguard.sources.image.streams import DecompressError as DecompressError  # what `decompressed` raises

CHUNK = 1 << 20
"""Compressed bytes per read: larger reads measured slower (zlib copies the unconsumed rest each call)."""
_OUT_CHUNK = 8 << 20
_QUEUE_DEPTH = 8
# Why a deep queue: a layer alternates regions of big files (the parser skips them fast and waits for
# the inflater) with regions of small files (the parser is the slower one); buffering up to
# 8 x 8 MiB of output lets the inflater run ahead through the slow regions instead of idling.
ZSTD_MAGIC = b"\x28\xb5\x2f\xfd"
_PIPE_SIZE = 1 << 20
_F_SETPIPE_SZ = getattr(fcntl, "F_SETPIPE_SZ", 1031)


def detect(head: bytes) -> str:
    if head[:2] == GZIP_MAGIC:
        return "gzip"
    if head[:4] == ZSTD_MAGIC:
        return "zstd"
    if head[:3] == b"BZh":
        return "bzip2"
    if head[:6] == b"\xfd7zXZ\x00":
        return "xz"
    return "tar"


class _Prefixed:
    """A stream with bytes already read put back in front."""

    def __init__(self, head: bytes, raw: RawReader) -> None:
        self._head = head
        self._raw = raw

    def read(self, n: int = -1) -> bytes:
        if self._head:
            out, self._head = self._head, b""
            return out
        return self._raw.read(n)

    def readinto(self, buffer: memoryview) -> int:
        if self._head:
            k = min(len(buffer), len(self._head))
            buffer[:k] = self._head[:k]
            self._head = self._head[k:]
            return k
        chunk = self._raw.read(len(buffer))
        buffer[: len(chunk)] = chunk
        return len(chunk)


class _Settling:
    """A plain (uncompressed) stream read in this thread: settle the deferred hash as it is read."""

    def __init__(self, src: _Prefixed, settle: Callable[[], None]) -> None:
        self._src = src
        self._settle = settle

    def readinto(self, buffer: memoryview) -> int:
        k = self._src.readinto(buffer)
        self._settle()
        return k


class ZlibReader:
    """In-process gzip (multi-member); `read_chunk` hands out zlib's own output without a copy."""

    def __init__(self, src: RawReader) -> None:
        self._src = src
        self._d = zlib.decompressobj(31)
        self._tail = b""
        self._done = False

    def _next_member(self) -> bool:
        rest = self._d.unused_data
        while len(rest) < 2:
            more = self._src.read(CHUNK)
            if not more:
                break
            rest += more
        if not rest:
            return False
        if rest[:2] != GZIP_MAGIC:
            # tar writers pad with zeros after the gzip stream; anything else is garbage.
            while rest:
                if rest.strip(b"\0"):
                    raise DecompressError("trailing garbage after the gzip stream")
                rest = self._src.read(CHUNK)
            return False
        self._d = zlib.decompressobj(31)
        self._tail = rest
        return True

    def readinto(self, buffer: memoryview) -> int:
        data = self.read_chunk(len(buffer))
        buffer[: len(data)] = data
        return len(data)

    def read_chunk(self, n: int) -> bytes:
        """Up to `n` decompressed bytes; b"" at the end."""
        while not self._done:
            if not self._tail:
                if self._d.eof:
                    if not self._next_member():
                        self._done = True
                        return b""
                else:
                    self._tail = self._src.read(CHUNK)
                    if not self._tail:
                        raise DecompressError("truncated gzip stream (unexpected end of data)")
            try:
                data = self._d.decompress(self._tail, n)
            except zlib.error as exc:
                raise DecompressError(f"corrupt gzip stream ({exc})") from None
            # At a member's end the remainder is in unused_data (CPython may also leave it in the tail).
            self._tail = b"" if self._d.eof else self._d.unconsumed_tail
            if data:
                return data
        return b""


class _ThreadedReader(ViewReader):
    """Decompress in a worker thread: zlib and zstd release the GIL while they inflate, so this
    runs on another core while the tar is parsed, without a child process. Output is handed over
    in bounded chunks through a bounded queue (at most ~`_QUEUE_DEPTH` x `_OUT_CHUNK` bytes)."""

    def __init__(
        self,
        produce: Callable[[int], bytes],
        settle: Callable[[], None] = lambda: None,
    ) -> None:
        self._produce = produce
        self._settle = settle
        self._queue: queue.Queue[bytes | BaseException | None] = queue.Queue(maxsize=_QUEUE_DEPTH)
        self._stop = threading.Event()
        self._view = memoryview(b"")
        self._done = False
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _put(self, item: bytes | BaseException | None) -> bool:
        while not self._stop.is_set():
            try:
                self._queue.put(item, timeout=0.2)
                return True
            except queue.Full:
                continue
        return False

    def _run(self) -> None:
        try:
            while not self._stop.is_set():
                data = self._produce(_OUT_CHUNK)
                if not data:
                    break
                if not self._put(data):
                    return
            self._put(None)
        except BaseException as exc:  # handed to the reading thread, which raises it
            self._put(exc)

    def _next_view(self) -> bool:
        while not self._view:
            if self._done:
                return False
            item = self._queue.get()
            if isinstance(item, BaseException):
                self._done = True
                raise item
            self._settle()  # everything the worker read for this item is hashed before it is used
            if item is None:
                self._done = True
                return False
            self._view = memoryview(item)
        return True

    def close(self) -> None:
        self._stop.set()
        while self._thread.is_alive():
            with suppress(queue.Empty):
                self._queue.get(timeout=0.05)
        self._thread.join()


class _ExternalReader:
    """Decompress through a child process fed by a thread (which also drives any digest check)."""

    def __init__(
        self,
        argv: list[str],
        src: RawReader,
        settle: Callable[[], None] = lambda: None,
    ) -> None:
        self._settle = settle
        self._proc = subprocess.Popen(
            argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, bufsize=0
        )
        assert self._proc.stdin is not None and self._proc.stdout is not None
        for pipe in (self._proc.stdin, self._proc.stdout):
            with suppress(OSError):  # a smaller pipe only costs a little speed
                fcntl.fcntl(pipe.fileno(), _F_SETPIPE_SZ, _PIPE_SIZE)
        self._out: Any = self._proc.stdout
        self._feed_error: BaseException | None = None
        self._tool = argv[0].rsplit("/", 1)[-1]
        self._thread = threading.Thread(target=self._feed, args=(src,), daemon=True)
        self._thread.start()

    def _feed(self, src: RawReader) -> None:
        stdin = self._proc.stdin
        assert stdin is not None
        try:
            while True:
                chunk = src.read(CHUNK)
                if not chunk:
                    break
                stdin.write(chunk)
        except BrokenPipeError:
            pass  # the reader stopped early (error or kill); it reports why
        except BaseException as exc:  # digest mismatch, I/O error: handed to the reading thread
            self._feed_error = exc
        finally:
            with suppress(OSError):
                stdin.close()

    def readinto(self, buffer: memoryview) -> int:
        k = self._out.readinto(buffer) or 0
        if k == 0:
            self._finish()
        else:
            self._settle()
        return k

    def _finish(self) -> None:
        self._thread.join()
        code = self._proc.wait()
        if self._feed_error is not None:
            raise self._feed_error
        self._settle()
        if code != 0:
            assert self._proc.stderr is not None
            msg = self._proc.stderr.read(4096).decode("utf-8", "replace").strip().splitlines()
            detail = msg[-1] if msg else f"exit status {code}"
            raise DecompressError(f"corrupt or truncated compressed layer ({self._tool}: {detail[:200]})")

    def close(self) -> None:
        if self._proc.poll() is None:
            self._proc.kill()
        self._proc.wait()
        self._thread.join(timeout=5)
        for pipe in (self._proc.stdout, self._proc.stderr):
            if pipe is not None:
                pipe.close()


def external_tool(kind: str) -> list[str] | None:
    # gzip: a zlib thread measured cheaper than pigz (11 vs 17 CPU-seconds for 1.6 GB; pigz spends
    # cores on CRC and I/O threads) and `gzip -dc` is slower than zlib; zstd: the tool is the library.
    names = {"zstd": ("zstd",)}.get(kind, ())
    for name in names:
        path = shutil.which(name)
        if path:
            return [path, "-dc"] + (["-q"] if name == "zstd" else [])
    return None


class ZstdReader:
    def __init__(self, src: RawReader) -> None:
        import zstandard  # imported here: most layers are gzip, and the inflating child starts per layer

        self._error: type[Exception] = zstandard.ZstdError
        # Cap the window (2 GiB) so a hostile frame header cannot ask for more memory than that.
        self._reader = zstandard.ZstdDecompressor(max_window_size=1 << 31).stream_reader(
            src,  # type: ignore[arg-type]
            read_across_frames=True,
            closefd=False,
        )

    def readinto(self, buffer: memoryview) -> int:
        try:
            return self._reader.readinto(buffer)
        except self._error as exc:
            raise DecompressError(f"corrupt zstd stream ({exc})") from None

    def read_chunk(self, n: int) -> bytes:
        try:
            return self._reader.read(n)
        except self._error as exc:
            raise DecompressError(f"corrupt zstd stream ({exc})") from None


@contextmanager
def decompressed(
    raw: RawReader,
    *,
    parallel: bool = True,
    settle: Callable[[], None] | None = None,
    ring: Ring | None = None,
) -> Iterator[tuple[str, object]]:
    """Yield (kind, reader with `readinto`) for a layer blob; kind is `tar`, `gzip` or `zstd`.

    `parallel`: decompress on another core (gzip: a zlib thread; zstd: the `zstd` tool if
    installed, else a thread) so the caller's parsing overlaps decompression.
    `settle`: called in the caller's thread whenever it takes data, so a `HashingReader(deferred=True)`
    around `raw` hashes what was read there and not on the decompressor's critical path.
    `ring`: output buffers shared by the inflaters of an image's layers (see `LibzReader`).
    """
    settle = settle or (lambda: None)
    head = b""
    while len(head) < 6:
        more = raw.read(6 - len(head))
        if not more:
            break
        head += more
    kind = detect(head)
    src = _Prefixed(head, raw)
    if kind == "tar":
        yield kind, _Settling(src, settle)
        return
    if kind not in ("gzip", "zstd"):
        raise DecompressError(f"unsupported layer compression: {kind} (gzip, zstd or plain tar are read)")
    inner = ZlibReader(src) if kind == "gzip" else ZstdReader(src)
    if not parallel:
        yield kind, inner
        return
    reader: _ExternalReader | _ThreadedReader | LibzReader
    libz = load_libz() if kind == "gzip" else None
    argv = external_tool(kind)
    if libz is not None:
        reader = LibzReader(libz, src, settle, ring)
    elif argv is not None:
        reader = _ExternalReader(argv, src, settle)
    else:
        reader = _ThreadedReader(inner.read_chunk, settle)
    try:
        yield kind, reader
    finally:
        reader.close()
