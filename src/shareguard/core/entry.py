"""An input entry handed to analyzers: a file of a workspace, an image layer member, a single file."""

from __future__ import annotations

import io
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO

from shareguard.core.errors import BudgetExceeded, InputError
from shareguard.core.files import open_regular, read_head

SNIFF_BYTES = 4096


class ContentNeeded(InputError):
    """Raised by a path-only entry when an analyzer's `claims` wants its bytes (a content sniff).

    Sources where content costs a read of the whole body (image layers, root filesystems) first ask
    `claims` of a path-only entry: True or False decides by path alone, this exception says "read
    the file and ask me again". It is an `InputError`, so code that already handles those stays safe.
    """


@dataclass
class FileEntry:
    """A regular file. Content is read lazily and only by the analyzers that claim the entry."""

    rel_path: str
    """POSIX path relative to the scanned root; what findings show."""
    size: int
    abs_path: Path | None = None
    data: bytes | None = None
    """In-memory content (image members, tests); `abs_path` is used when this is None (a workspace file,
    or an image member large enough to be spooled to a temporary file, see `core/dispatch.py`)."""
    layer: str | None = None
    """The image layer (diff id) the file comes from; None for a workspace or a root filesystem."""
    _head: bytes | None = field(default=None, repr=False)
    _head_is_all: bool = field(default=False, repr=False)
    """The head read hit the end of the file: it is the whole content (most config files are that small)."""

    @property
    def name(self) -> str:
        return self.rel_path.rsplit("/", 1)[-1]

    @property
    def suffix(self) -> str:
        n = self.name
        return n[n.rfind(".") :].lower() if "." in n else ""

    def head(self, n: int = SNIFF_BYTES) -> bytes:
        """The first bytes, for content sniffing (cached)."""
        if self._head is None or len(self._head) < min(n, self.size):
            want = max(n, SNIFF_BYTES)
            if self.data is None and self.abs_path is not None:
                self._head = read_head(self.abs_path, want, origin=self.rel_path)
            else:
                with self.open() as fh:
                    self._head = fh.read(want)
            self._head_is_all = len(self._head) < want
        return self._head[:n]

    @classmethod
    def path_only(cls, rel_path: str, size: int) -> FileEntry:
        """An entry known by path and size only: reading it raises `ContentNeeded`."""
        return cls(rel_path=rel_path, size=size)

    def open(self) -> BinaryIO:
        if self.data is not None:
            return io.BytesIO(self.data)
        if self.abs_path is None:
            raise ContentNeeded("entry has neither data nor path", path=self.rel_path)
        # Through the budgeted reader's type check: a path swapped for a FIFO or a device after the walk
        # is refused at once, never read (or waited for).
        return open_regular(self.abs_path, origin=self.rel_path)

    def read(self, limit: int) -> bytes:
        """The whole content, refusing files over `limit` bytes (each parser has a budget)."""
        if self.size > limit:
            raise BudgetExceeded(f"file is {self.size} bytes, over the {limit}-byte budget", path=self.rel_path)
        if self.data is not None:
            return self.data
        if self._head_is_all and self._head is not None:
            data = self._head
        else:
            with self.open() as fh:
                data = fh.read(limit + 1)
        if len(data) > limit:
            raise BudgetExceeded(f"file grew over the {limit}-byte budget while read", path=self.rel_path)
        # Kept for later reads of this entry (e.g. inline suppressions after parsing): one read per file.
        self._head, self._head_is_all = data, True
        return data

    def read_text(self, limit: int) -> str:
        raw = self.read(limit)
        if b"\x00" in raw[:SNIFF_BYTES]:
            raise BudgetExceeded("binary content where text was expected", path=self.rel_path)
        return raw.decode("utf-8", errors="replace")
