"""Read-only access to the files of an image layout: a directory or an (uncompressed) outer tar.

Both refuse names that leave the layout, symlinks, and non-regular files; nothing is extracted.
"""

from __future__ import annotations

import os
import posixpath
import stat
import tarfile
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path
from typing import BinaryIO, Protocol

from shareguard.core.errors import BudgetExceeded, HostileInputError, InputError
from shareguard.sources.image.model import BlobReader


class BlobStore(Protocol):
    location: str

    def exists(self, name: str) -> bool: ...

    def read(self, name: str, limit: int) -> bytes: ...

    def open(self, name: str) -> AbstractContextManager[BlobReader]: ...

    def size(self, name: str) -> int: ...


def clean_name(name: str) -> str:
    """A layout-relative name, or HostileInputError for one that climbs out or is absolute."""
    if name.startswith("/") or "\0" in name:
        raise HostileInputError(f"refusing absolute or invalid name {name[:100]!r}")
    norm = posixpath.normpath(name)
    if norm == ".." or norm.startswith("../"):
        raise HostileInputError(f"refusing name outside the image layout {name[:100]!r}")
    return "" if norm == "." else norm


class FileSection:
    """A read-only window on part of a file (a member of an uncompressed tar)."""

    def __init__(self, path: Path, offset: int, size: int) -> None:
        self._fh = path.open("rb")
        self._fh.seek(offset)
        self._left = size

    def read(self, n: int = -1) -> bytes:
        if n < 0 or n > self._left:
            n = self._left
        data = self._fh.read(n)
        self._left -= len(data)
        return data

    def readinto(self, buffer: memoryview) -> int:
        view = buffer[: min(len(buffer), self._left)]
        k = self._fh.readinto(view) or 0
        self._left -= k
        return k

    def close(self) -> None:
        self._fh.close()


class DirStore:
    def __init__(self, root: Path) -> None:
        self.root = root
        self.location = str(root)

    def _path(self, name: str) -> Path:
        rel = clean_name(name)
        path = self.root / rel
        try:
            st = path.lstat()
        except FileNotFoundError:
            raise InputError(f"{name} is missing from the image layout", path=self.location) from None
        except OSError as exc:
            raise InputError(f"cannot read {name}: {exc.strerror}", path=self.location) from None
        if not stat.S_ISREG(st.st_mode):
            raise HostileInputError(f"{name} is not a regular file (symlink or special file)", path=self.location)
        return path

    def exists(self, name: str) -> bool:
        try:
            return (self.root / clean_name(name)).is_file()
        except HostileInputError:
            return False

    def size(self, name: str) -> int:
        return self._path(name).stat().st_size

    def read(self, name: str, limit: int) -> bytes:
        path = self._path(name)
        with path.open("rb") as fh:
            data = fh.read(limit + 1)
        if len(data) > limit:
            raise BudgetExceeded(f"{name} is over the {limit}-byte limit", path=self.location)
        return data

    @contextmanager
    def open(self, name: str) -> Iterator[BinaryIO]:
        fd = os.open(self._path(name), os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0))
        with os.fdopen(fd, "rb", buffering=0) as fh:
            yield fh


class TarStore:
    """The members of an uncompressed tar, indexed once by name (offsets only, a few per layer)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.location = str(path)
        self._members: dict[str, tuple[int, int]] = {}
        with path.open("rb") as fh:
            magic = fh.read(6)
        if magic[:2] == b"\x1f\x8b" or magic[:4] == b"\x28\xb5\x2f\xfd" or magic[:3] == b"BZh":
            raise InputError("compressed image archives are not read directly; decompress it first", path=str(path))
        try:
            with tarfile.open(path, "r:") as tf:
                for member in tf:
                    if not member.isreg():
                        continue
                    try:
                        name = clean_name(member.name)
                    except HostileInputError:
                        continue  # never looked up: a layout only names blobs by digest or plain paths
                    self._members[name] = (member.offset_data, member.size)
                    if len(self._members) > 100_000:
                        raise BudgetExceeded("image archive has over 100000 members", path=str(path))
        except tarfile.TarError as exc:
            raise InputError(f"not a readable tar archive ({exc})", path=str(path)) from None
        except OSError as exc:
            raise InputError(f"cannot read archive: {exc.strerror or exc}", path=str(path)) from None

    def _entry(self, name: str) -> tuple[int, int]:
        try:
            return self._members[clean_name(name)]
        except KeyError:
            raise InputError(f"{name} is missing from the image archive", path=self.location) from None

    def exists(self, name: str) -> bool:
        try:
            return clean_name(name) in self._members
        except HostileInputError:
            return False

    def size(self, name: str) -> int:
        return self._entry(name)[1]

    def read(self, name: str, limit: int) -> bytes:
        offset, size = self._entry(name)
        if size > limit:
            raise BudgetExceeded(f"{name} is over the {limit}-byte limit", path=self.location)
        section = FileSection(self.path, offset, size)
        try:
            data = section.read(size)
        finally:
            section.close()
        if len(data) != size:
            raise InputError(f"{name} is truncated in the image archive", path=self.location)
        return data

    @contextmanager
    def open(self, name: str) -> Iterator[BinaryIO]:
        offset, size = self._entry(name)
        section = FileSection(self.path, offset, size)
        try:
            yield section  # type: ignore[misc]
        finally:
            section.close()
