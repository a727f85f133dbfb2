"""What the layer decompressors share (`decompress.py` and the libz inflater in `libz.py`): the error,
the raw-input protocol and the buffer-handing reader base."""

from __future__ import annotations

from typing import Protocol

GZIP_MAGIC = b"\x1f\x8b"


class DecompressError(Exception):
    """The layer's compressed stream is corrupt, truncated or of an unsupported kind."""


class RawReader(Protocol):
    def read(self, n: int = -1, /) -> bytes: ...


class ViewReader:
    """`readinto` and `skip` over buffers a worker thread fills; subclasses make the next one current."""

    _view: memoryview

    def _next_view(self) -> bool:
        """Make the next filled buffer `_view`; False at the end of the stream."""
        raise NotImplementedError

    def readinto(self, buffer: memoryview) -> int:
        if not self._next_view():
            return 0
        k = min(len(buffer), len(self._view))
        buffer[:k] = self._view[:k]
        self._view = self._view[k:]
        return k

    def skip(self, n: int) -> int:
        """Pass over up to `n` bytes without copying them (file bodies nobody reads); 0 at the end."""
        if not self._next_view():
            return 0
        k = min(n, len(self._view))
        self._view = self._view[k:]
        return k
