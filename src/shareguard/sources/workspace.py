"""Walk a workspace directory (or a single file) and yield its regular files as entries.

Symlinks are never followed (no loops, no escape from the root); special files are skipped, and so is
shareguard's own cache directory when it lies inside the tree (its entries are not the user's files), with a
warning that says so.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from pathlib import Path

from shareguard.core.context import ScanContext
from shareguard.core.entry import FileEntry
from shareguard.core.errors import InputError
from shareguard.core.settings import CACHE_SKIPPED

SKIP_DIRS = frozenset(
    {
        ".git",
        ".hg",
        ".svn",
        "__pycache__",
        ".mypy_cache",
        ".ruff_cache",
        ".pytest_cache",
        ".venv",
        "venv",
        "node_modules",
        ".tox",
        ".terraform",
    }
)


def check_target(path: Path) -> Path:
    """A clear error for a path that does not exist or cannot be read."""
    try:
        st = path.stat()
    except FileNotFoundError:
        raise InputError("no such file or directory", path=str(path)) from None
    except OSError as exc:
        raise InputError(f"cannot access: {exc.strerror}", path=str(path)) from None
    if stat.S_ISDIR(st.st_mode):
        if not os.access(path, os.R_OK | os.X_OK):
            raise InputError("directory is not readable", path=str(path))
    elif not os.access(path, os.R_OK):
        raise InputError("file is not readable", path=str(path))
    return path


def walk(root: Path, ctx: ScanContext, *, skip_dirs: frozenset[str] = SKIP_DIRS) -> Iterator[FileEntry]:
    """Yield every regular file below `root` (or `root` itself when it is a file), sorted."""
    check_target(root)
    if root.is_file():
        yield FileEntry(rel_path=root.name, size=root.stat().st_size, abs_path=root)
        return
    count = 0
    limit = ctx.settings.budgets.max_files
    own_cache = _cache_below(ctx.settings.cache_dir, root)
    # (directory, its path relative to `root` with a trailing "/", "" for the root): relative paths are
    # joined as strings, one per file, instead of a `Path.relative_to` per file.
    stack: list[tuple[Path, str]] = [(root, "")]
    while stack:
        current, prefix = stack.pop()
        try:
            with os.scandir(current) as it:
                items = sorted(it, key=lambda e: e.name)
        except OSError as exc:
            ctx.error(_rel(current, root), f"cannot list directory: {exc.strerror}")
            continue
        subdirs: list[tuple[Path, str]] = []
        for item in items:
            try:
                st = item.stat(follow_symlinks=False)
            except OSError as exc:
                ctx.error(_rel(Path(item.path), root), f"cannot stat: {exc.strerror}")
                continue
            mode = st.st_mode
            if stat.S_ISLNK(mode):
                continue
            if stat.S_ISDIR(mode):
                rel_dir = f"{prefix}{item.name}/"
                if rel_dir == own_cache:
                    ctx.warn(rel_dir[:-1], CACHE_SKIPPED)
                elif item.name not in skip_dirs:
                    subdirs.append((Path(item.path), rel_dir))
                continue
            if not stat.S_ISREG(mode):
                continue
            count += 1
            if count > limit:
                ctx.error(_rel(root, root), f"more than {limit} files; the rest was not scanned")
                return
            yield FileEntry(rel_path=prefix + item.name, size=st.st_size, abs_path=Path(item.path))
        stack.extend(reversed(subdirs))


def _cache_below(cache_dir: Path, root: Path) -> str | None:
    """The cache directory's path below `root` (`a/cache/`), None when it is not strictly below it. Its layer
    and bundled-data entries and spooled copies are shareguard's own: scanning them would report on them
    (and pass duties over them) depending on what the cache holds at the time."""
    try:
        rel = Path(os.path.realpath(cache_dir)).relative_to(os.path.realpath(root)).as_posix()
    except ValueError:
        return None
    return None if rel == "." else rel + "/"


def _rel(path: Path, root: Path) -> str:
    try:
        rel = path.relative_to(root).as_posix()
    except ValueError:
        rel = path.as_posix()
    return rel or "."
