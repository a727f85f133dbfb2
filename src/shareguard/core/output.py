"""Writing a report or baseline file: atomically, so a failure never leaves half a file behind."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from shareguard.core.errors import ConfigError


def write_atomically(path: Path, content: str) -> None:
    """Write to a temporary file beside `path`, then rename: nothing half-written on failure."""
    directory = path.parent if str(path.parent) else Path(".")
    if not directory.is_dir():
        raise ConfigError("output directory does not exist", path=str(directory))
    if path.is_dir():
        raise ConfigError("output path is a directory", path=str(path))
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=directory)
    except OSError as exc:
        raise ConfigError(f"cannot write output: {exc.strerror or exc}", path=str(path)) from None
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(content)
        # mkstemp makes the file 0600; give the report the mode a plain open() would.
        os.chmod(tmp, 0o666 & ~_umask())
        os.replace(tmp, path)
    except OSError as exc:
        Path(tmp).unlink(missing_ok=True)
        raise ConfigError(f"cannot write output: {exc.strerror or exc}", path=str(path)) from None
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask
