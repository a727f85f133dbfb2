"""Byte sources the format readers work on: a whole file, a window into a file (a stored archive
member), or a decompressing stream with an output budget. None of them extracts to disk."""

from __future__ import annotations

import bz2
import io
import lzma
import zlib
from dataclasses import dataclass
from typing import Any, BinaryIO

from shareguard.core.errors import BudgetExceeded


class Window(io.RawIOBase):
    """A read-only, seekable view of `length` bytes of `fh` starting at `start`."""

    def __init__(self, fh: BinaryIO, start: int, length: int) -> None:
        self._fh = fh
        self._start = start
        self._len = max(0, length)
        self._pos = 0

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def tell(self) -> int:
        return self._pos

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        if whence == io.SEEK_SET:
            pos = offset
        elif whence == io.SEEK_CUR:
            pos = self._pos + offset
        else:
            pos = self._len + offset
        self._pos = min(max(0, pos), self._len)
        return self._pos

    def readinto(self, b: Any) -> int:
        n = min(len(b), self._len - self._pos)
        if n <= 0:
            return 0
        self._fh.seek(self._start + self._pos)
        data = self._fh.read(n)
        b[: len(data)] = data
        self._pos += len(data)
        return len(data)

    def read(self, size: int = -1) -> bytes:
        if size is None or size < 0:
            size = self._len - self._pos
        size = min(size, self._len - self._pos)
        if size <= 0:
            return b""
        self._fh.seek(self._start + self._pos)
        data = self._fh.read(size)
        self._pos += len(data)
        return data


def make_decompressor(kind: str) -> Any:
    """A stdlib/third-party incremental decompressor for `kind` (an object with .decompress)."""
    if kind == "gzip":
        return zlib.decompressobj(16 + zlib.MAX_WBITS)
    if kind == "zlib":
        return zlib.decompressobj()
    if kind == "deflate":
        return zlib.decompressobj(-zlib.MAX_WBITS)
    if kind == "bz2":
        return bz2.BZ2Decompressor()
    if kind == "xz":
        return lzma.LZMADecompressor(format=lzma.FORMAT_XZ)
    if kind == "lzma":
        return lzma.LZMADecompressor(format=lzma.FORMAT_ALONE)
    if kind == "lzma-zip":
        return _ZipLzma()
    if kind == "lz4":
        import lz4.frame

        return lz4.frame.LZ4FrameDecompressor()
    if kind == "zstd":
        import zstandard

        return zstandard.ZstdDecompressor().decompressobj()
    raise ValueError(f"no decompressor for {kind}")


class _ZipLzma:
    """Zip's LZMA method: a 4-byte version/size header and LZMA properties before a raw stream."""

    def __init__(self) -> None:
        self._d: Any = None
        self._pending = b""
        self.eof = False

    def decompress(self, data: bytes, max_length: int = -1) -> bytes:
        if self._d is None:
            self._pending += data
            if len(self._pending) < 4:
                return b""
            psize = int.from_bytes(self._pending[2:4], "little")
            if len(self._pending) < 4 + psize:
                return b""
            props = lzma._decode_filter_properties(lzma.FILTER_LZMA1, self._pending[4 : 4 + psize])  # type: ignore[attr-defined]
            self._d = lzma.LZMADecompressor(lzma.FORMAT_RAW, filters=[props])
            data = self._pending[4 + psize :]
            self._pending = b""
        out: bytes = self._d.decompress(data, max_length)
        self.eof = bool(self._d.eof)
        return out

    @property
    def needs_input(self) -> bool:
        return self._d is None or bool(self._d.needs_input)


@dataclass
class Budget:
    """Decompressed-bytes budget shared by everything below one top-level file."""

    remaining: int
    max_ratio: int = 1000
    ratio_floor: int = 64 * 1024 * 1024
    """The ratio check starts once this much was produced (small files compress very well)."""


class DecompressingReader(io.RawIOBase):
    """Decompress `src` on the fly; raises BudgetExceeded past the budget or an absurd ratio."""

    def __init__(self, src: BinaryIO, kind: str, budget: Budget, *, what: str = "stream") -> None:
        self._src = src
        self._d = make_decompressor(kind)
        self._budget = budget
        self._out = b""
        self._off = 0
        """Read position in `_out` (the buffer is compacted when refilled, never on each read)."""
        self._done = False
        self._in = 0
        self._produced = 0
        self._what = what
        self.crc = 0
        self.truncated = False
        """The source ended inside the compressed stream (known once the end was reached)."""

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return False

    def _more(self, want: int) -> None:
        """Inflate until `want` bytes are buffered or the stream ends. Each step produces at most
        1 MiB (zlib through `max_length` and its unconsumed tail), so memory stays flat however
        well the input compresses."""
        while len(self._out) - self._off < want and not self._done:
            data = self._step()
            if data is None:
                break
            self._produced += len(data)
            self._budget.remaining -= len(data)
            if self._budget.remaining < 0:
                raise BudgetExceeded(f"{self._what}: decompressed data over the budget")
            if self._produced > self._budget.ratio_floor and self._produced > self._budget.max_ratio * max(1, self._in):
                raise BudgetExceeded(
                    f"{self._what}: compression ratio over {self._budget.max_ratio}:1 ({self._produced} bytes "
                    f"from {self._in})"
                )
            self.crc = zlib.crc32(data, self.crc)
            self._out = self._out[self._off :] + data
            self._off = 0
            if getattr(self._d, "eof", False):
                self._done = True

    def _step(self) -> bytes | None:
        """One bounded decompression step; None at the end of the source."""
        d = self._d
        bounded = hasattr(d, "needs_input")
        tail = getattr(d, "unconsumed_tail", None)
        chunk = b""
        if tail:
            chunk = tail
        elif not bounded or d.needs_input:
            # An unbounded decompressor (zstd: up to ~32,000:1) gets small inputs so one step stays small.
            chunk = self._src.read(256 * 1024 if bounded or tail is not None else 1024)
            self._in += len(chunk)
            if not chunk:
                pending = d.flush() if tail is not None and not getattr(d, "eof", False) else b""
                if pending:
                    return bytes(pending)
                self._done = True
                # The source ended before the compressed stream did: what was inflated is read,
                # and the reader says it was cut short (a part not analysed).
                self.truncated = not getattr(d, "eof", True)
                return None
        try:
            if bounded or tail is not None:
                data: bytes = d.decompress(chunk, 1 << 20)
            else:
                data = d.decompress(chunk)
        except (zlib.error, lzma.LZMAError, OSError, EOFError, RuntimeError) as exc:
            raise CorruptData(f"{self._what}: {exc}") from exc
        except Exception as exc:  # lz4/zstd raise their own error types
            raise CorruptData(f"{self._what}: {type(exc).__name__}: {exc}") from exc
        return data

    def readinto(self, b: Any) -> int:
        data = self.read(len(b))
        b[: len(data)] = data
        return len(data)

    def read(self, size: int = -1) -> bytes:
        if size is None or size < 0:
            size = 1 << 62
        self._more(min(size, 1 << 20))
        out = self._out[self._off : self._off + size]
        self._off += len(out)
        return out

    @property
    def produced(self) -> int:
        return self._produced


class CorruptData(Exception):
    """Compressed data that does not decompress."""
