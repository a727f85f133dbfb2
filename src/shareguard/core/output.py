"""Writing a report or baseline file: never touching anything but the output itself.

What is at the target decides how it is written:

- nothing, or a regular file: written to a temporary file beside it, then renamed over it (atomic:
  a failure never leaves half a file behind);
- a character device (`/dev/null`, a terminal) or a FIFO: written through, never replaced — the
  device node stays what it was. A FIFO nobody reads is waited for at most `FIFO_WAIT_SECONDS`,
  then refused with one line (never a hang);
- a symbolic link: followed only when it leads to a character device or a FIFO (`/dev/stdout`);
  a link to a regular file, a directory or nothing is refused with one line naming the link and its
  target (replacing the link, or writing into wherever it points, would both surprise someone);
- a directory, a block device or a socket: refused.

The content is written by a callback given the open text file, so a reporter can stream a large
report chunk by chunk instead of holding it whole (`write_output`); `write_atomically` writes a string.
"""

from __future__ import annotations

import errno
import os
import stat
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import TextIO

from shareguard.core.errors import ConfigError
from shareguard.core.files import file_kind

FIFO_WAIT_SECONDS = 5.0
"""How long a FIFO output waits for a reader before the write is refused."""
_POLL = 0.05

Writer = Callable[[TextIO], None]


def write_atomically(path: Path, content: str) -> None:
    """Write `content` to `path` (see the module doc for what each kind of target gets)."""

    def write(fh: TextIO) -> None:
        fh.write(content)

    write_output(path, write)


def write_output(path: Path, write: Writer) -> None:
    """Open `path` as the module doc says and let `write` fill it; one-line `ConfigError` on any failure."""
    try:
        lst = os.lstat(path)
    except FileNotFoundError:
        lst = None
    except OSError as exc:
        raise ConfigError(f"cannot write output: {exc.strerror or exc}", path=str(path)) from None
    if lst is not None and stat.S_ISLNK(lst.st_mode):
        target = _link_target(path)
        try:
            st = os.stat(path)
        except OSError:
            st = None
        if st is not None and (stat.S_ISCHR(st.st_mode) or stat.S_ISFIFO(st.st_mode)):
            _write_through(path, write)
            return
        what = "nothing" if st is None else file_kind(st.st_mode)
        raise ConfigError(
            f"output path is a symbolic link to {target} ({what}); not followed: give the target itself",
            path=str(path),
        )
    if lst is not None and (stat.S_ISCHR(lst.st_mode) or stat.S_ISFIFO(lst.st_mode)):
        _write_through(path, write)
        return
    if lst is not None and not stat.S_ISREG(lst.st_mode):
        raise ConfigError(f"output path is {file_kind(lst.st_mode)}; not replaced", path=str(path))
    _write_replacing(path, write)


def _link_target(path: Path) -> str:
    try:
        return os.readlink(path)
    except OSError:  # pragma: no cover - the link vanished meanwhile
        return "?"


def _write_replacing(path: Path, write: Writer) -> None:
    """A regular file (or nothing) at `path`: a temporary file beside it, renamed over it."""
    directory = path.parent if str(path.parent) else Path(".")
    if not directory.is_dir():
        raise ConfigError("output directory does not exist", path=str(directory))
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=directory)
    except OSError as exc:
        raise ConfigError(f"cannot write output: {exc.strerror or exc}", path=str(path)) from None
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            write(fh)
        # mkstemp makes the file 0600; give the report the mode a plain open() would.
        os.chmod(tmp, 0o666 & ~_umask())
        os.replace(tmp, path)
    except OSError as exc:
        Path(tmp).unlink(missing_ok=True)
        raise ConfigError(f"cannot write output: {exc.strerror or exc}", path=str(path)) from None
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _write_through(path: Path, write: Writer) -> None:
    """A character device or FIFO: opened for writing as it is (no O_CREAT, no O_TRUNC), never replaced."""
    flags = os.O_WRONLY | os.O_NONBLOCK | getattr(os, "O_NOCTTY", 0) | getattr(os, "O_CLOEXEC", 0)
    deadline = time.monotonic() + FIFO_WAIT_SECONDS
    while True:
        try:
            fd = os.open(path, flags)
            break
        except OSError as exc:
            # ENXIO: a FIFO without a reader (O_NONBLOCK makes the open fail instead of blocking).
            if exc.errno == errno.ENXIO and time.monotonic() < deadline:
                time.sleep(_POLL)
                continue
            if exc.errno == errno.ENXIO:
                raise ConfigError(
                    f"output is a FIFO that no process reads (waited {FIFO_WAIT_SECONDS:g}s); not written",
                    path=str(path),
                ) from None
            raise ConfigError(f"cannot write output: {exc.strerror or exc}", path=str(path)) from None
    try:
        st = os.fstat(fd)
        if not (stat.S_ISCHR(st.st_mode) or stat.S_ISFIFO(st.st_mode)):
            # Swapped for something else between the check and the open: nothing was truncated; refuse.
            raise ConfigError(f"output path changed to {file_kind(st.st_mode)} while opened", path=str(path))
        os.set_blocking(fd, True)  # a slow reader is waited for, as any pipe writer does
    except BaseException:
        os.close(fd)
        raise
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            write(fh)
    except OSError as exc:
        raise ConfigError(f"cannot write output: {exc.strerror or exc}", path=str(path)) from None


def _umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask
