"""A chunked, bounded reader over a binary file object.

Pickle and joblib streams are read through this: a fixed-size buffer (1 MiB), huge declared
lengths are skipped by seeking (or reading and discarding when the source cannot seek), so memory
never depends on the size of the file or of one argument.
"""

from __future__ import annotations

import io
from typing import BinaryIO

CHUNK = 1 << 20


class Truncated(Exception):
    """The stream ended inside an opcode or argument."""


class ChunkedReader:
    def __init__(self, fh: BinaryIO, *, start: int = 0, limit: int | None = None, chunk: int = CHUNK) -> None:
        self._fh = fh
        self._chunk = chunk
        self._buf = b""
        self._pos = 0  # position inside _buf
        self._base = start  # stream offset of _buf[0]
        self._limit = limit  # absolute end offset (exclusive), when known
        try:
            self._seekable = fh.seekable()
        except (AttributeError, OSError, ValueError):
            self._seekable = False

    def tell(self) -> int:
        return self._base + self._pos

    def _fill(self, need: int) -> bool:
        """Make at least `need` bytes available from the current position; False at end of stream."""
        avail = len(self._buf) - self._pos
        if avail >= need:
            return True
        rest = self._buf[self._pos :]
        self._base += self._pos
        self._pos = 0
        want = max(self._chunk, need) - len(rest)
        if self._limit is not None:
            want = min(want, max(0, self._limit - self._base - len(rest)))
        parts = [rest]
        got = len(rest)
        while got < need and want > 0:
            data = self._fh.read(want)
            if not data:
                break
            parts.append(data)
            got += len(data)
            want -= len(data)
        self._buf = b"".join(parts)
        return got >= need

    def at_eof(self) -> bool:
        return not self._fill(1)

    def read(self, n: int) -> bytes:
        if not self._fill(n):
            raise Truncated(f"stream ends at offset {self._base + len(self._buf)}, {n} bytes wanted")
        out = self._buf[self._pos : self._pos + n]
        self._pos += n
        return out

    def read_byte(self) -> int:
        if self._pos >= len(self._buf) and not self._fill(1):
            raise Truncated(f"stream ends at offset {self.tell()}")
        b = self._buf[self._pos]
        self._pos += 1
        return b

    def peek(self, n: int) -> bytes:
        self._fill(n)
        return self._buf[self._pos : self._pos + n]

    def readline(self, max_len: int) -> bytes:
        """Bytes up to (not including) the next newline; Truncated when no newline within `max_len`."""
        while True:
            idx = self._buf.find(b"\n", self._pos)
            if idx >= 0:
                if idx - self._pos > max_len:
                    raise Truncated(f"line longer than {max_len} bytes at offset {self.tell()}")
                line = self._buf[self._pos : idx]
                self._pos = idx + 1
                return line
            have = len(self._buf) - self._pos
            if have > max_len:
                raise Truncated(f"line longer than {max_len} bytes at offset {self.tell()}")
            if not self._fill(have + 1):
                raise Truncated(f"stream ends inside a text argument at offset {self.tell()}")

    def skip(self, n: int) -> None:
        """Skip `n` bytes without keeping them (seek when possible)."""
        if n < 0:
            raise Truncated("negative length")
        avail = len(self._buf) - self._pos
        if n <= avail:
            self._pos += n
            return
        target = self.tell() + n
        if self._limit is not None and target > self._limit:
            raise Truncated(f"declared length {n} runs past the end of the data at offset {self.tell()}")
        if self._seekable:
            end = self._fh.seek(0, io.SEEK_END)
            if target > end:
                raise Truncated(f"declared length {n} runs past the end of the file at offset {self.tell()}")
            self._fh.seek(target)
            self._base = target
            self._buf = b""
            self._pos = 0
            return
        n -= avail
        self._base += len(self._buf)
        self._buf = b""
        self._pos = 0
        while n > 0:
            data = self._fh.read(min(n, self._chunk))
            if not data:
                raise Truncated(f"declared length runs past the end of the stream at offset {self._base}")
            n -= len(data)
            self._base += len(data)
