"""The one way shareguard reads a file named by a path: regular files only, within a size budget.

A FIFO opened for reading blocks until a writer comes; `/dev/zero` never ends; a 3 GiB file read
whole before its size is checked exhausts memory. `read_regular` opens without blocking (O_NONBLOCK:
a FIFO opens at once), checks the *opened* file's type with `fstat` (no race with a swapped path),
refuses anything but a regular file, checks the size against the budget and reads at most
`limit + 1` bytes (a file growing while read is caught too).

Errors are one-line `InputError`s (not a regular file, cannot be read) and `BudgetExceeded`
(over the budget), naming the path; callers that need their own error class (a waiver file, a
baseline) convert them.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path
from typing import BinaryIO

from shareguard.core.errors import BudgetExceeded, InputError

_FLAGS = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0) | getattr(os, "O_NOCTTY", 0)


def file_kind(mode: int) -> str:
    """A file type in words, for messages ("a FIFO", "a character device"…)."""
    if stat.S_ISFIFO(mode):
        return "a FIFO"
    if stat.S_ISCHR(mode):
        return "a character device"
    if stat.S_ISBLK(mode):
        return "a block device"
    if stat.S_ISSOCK(mode):
        return "a socket"
    if stat.S_ISDIR(mode):
        return "a directory"
    if stat.S_ISLNK(mode):
        return "a symbolic link"
    return "a regular file" if stat.S_ISREG(mode) else "a special file"


def read_regular(path: Path | str, limit: int, *, origin: str | None = None, follow_symlinks: bool = True) -> bytes:
    """The whole content of the regular file at `path`, refusing special files and files over `limit` bytes.

    `follow_symlinks=False` also refuses a symbolic link (for paths found by walking a tree: the
    walker decides about links, not the reader). `origin` is the name errors give (default: the path)."""
    where = origin if origin is not None else str(path)
    flags = _FLAGS if follow_symlinks else _FLAGS | getattr(os, "O_NOFOLLOW", 0)
    try:
        fd = os.open(path, flags)
    except OSError as exc:
        if not follow_symlinks and os.path.islink(path):
            raise InputError("is a symbolic link; not followed", path=where) from None
        raise InputError(f"cannot read: {exc.strerror or exc}", path=where) from None
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            raise InputError(f"is {file_kind(st.st_mode)}, not a regular file; not read", path=where)
        if st.st_size > limit:
            raise BudgetExceeded(f"file is {st.st_size} bytes, over the {limit}-byte budget", path=where)
        chunks: list[bytes] = []
        got = 0
        want = st.st_size + 1 if st.st_size else 1 << 16  # one read for a file that does not change meanwhile
        while got <= limit:
            chunk = os.read(fd, min(limit + 1 - got, max(want, 1 << 16)))
            want = 1 << 20
            if not chunk:
                break
            chunks.append(chunk)
            got += len(chunk)
        if got > limit:
            raise BudgetExceeded(f"file grew over the {limit}-byte budget while read", path=where)
        return b"".join(chunks)
    except OSError as exc:
        raise InputError(f"cannot read: {exc.strerror or exc}", path=where) from None
    finally:
        os.close(fd)


def read_head(path: Path | str, n: int, *, origin: str | None = None) -> bytes:
    """The first `n` bytes of the regular file at `path` (fewer when it is shorter), after `read_regular`'s type
    check: the content sniff of a workspace file, read without a buffered file object (for most configuration
    files this is the whole content, read once)."""
    where = origin if origin is not None else str(path)
    try:
        fd = os.open(path, _FLAGS)
    except OSError as exc:
        raise InputError(f"cannot read: {exc.strerror or exc}", path=where) from None
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            raise InputError(f"is {file_kind(st.st_mode)}, not a regular file; not read", path=where)
        chunks: list[bytes] = []
        got = 0
        while got < n:
            chunk = os.read(fd, n - got)
            if not chunk:
                break
            chunks.append(chunk)
            got += len(chunk)
        return chunks[0] if len(chunks) == 1 else b"".join(chunks)
    except OSError as exc:
        raise InputError(f"cannot read: {exc.strerror or exc}", path=where) from None
    finally:
        os.close(fd)


def open_regular(path: Path | str, *, origin: str | None = None, follow_symlinks: bool = True) -> BinaryIO:
    """The regular file at `path` opened for reading (binary, unbuffered reads of what the caller asks), after the
    same type check as `read_regular`: for readers that stream a file rather than read it whole."""
    where = origin if origin is not None else str(path)
    flags = _FLAGS if follow_symlinks else _FLAGS | getattr(os, "O_NOFOLLOW", 0)
    try:
        fd = os.open(path, flags)
    except OSError as exc:
        raise InputError(f"cannot read: {exc.strerror or exc}", path=where) from None
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            raise InputError(f"is {file_kind(st.st_mode)}, not a regular file; not read", path=where)
        return os.fdopen(fd, "rb")
    except BaseException:
        os.close(fd)
        raise


def read_regular_text(
    path: Path | str, limit: int, *, origin: str | None = None, follow_symlinks: bool = True, errors: str = "strict"
) -> str:
    """`read_regular` decoded as UTF-8; invalid UTF-8 is an `InputError` unless `errors` says otherwise."""
    data = read_regular(path, limit, origin=origin, follow_symlinks=follow_symlinks)
    try:
        return data.decode("utf-8", errors=errors)
    except UnicodeDecodeError as exc:
        where = origin if origin is not None else str(path)
        raise InputError(f"cannot read: not UTF-8 text (byte {exc.start})", path=where) from None
