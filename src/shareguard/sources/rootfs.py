"""Walk an unpacked root filesystem (a mounted VM disk, a chroot, or `/`) as one pseudo-layer.

Symlinks are never followed (they are reported to the sink, which resolves them lexically inside
the root), bind-mount loops are cut by (device, inode), and pseudo filesystems (proc, sysfs, …) are
skipped wherever they are mounted. Only files some analyzer wants are read, with O_NOFOLLOW; one over
`spool_over` bytes is copied (through the same descriptor) to a temporary file in `spool_dir` instead
of into memory, and the sink owns (and deletes) that file.
"""

from __future__ import annotations

import os
import stat
import tempfile
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Protocol

from shareguard.core.errors import InputError
from shareguard.core.files import file_kind
from shareguard.core.settings import Budgets

PSEUDO_FS = frozenset(
    {
        "proc",
        "sysfs",
        "devtmpfs",
        "devpts",
        "cgroup",
        "cgroup2",
        "securityfs",
        "debugfs",
        "tracefs",
        "pstore",
        "bpf",
        "mqueue",
        "hugetlbfs",
        "configfs",
        "fusectl",
        "autofs",
        "binfmt_misc",
        "nsfs",
        "rpc_pipefs",
        "efivarfs",
        "selinuxfs",
    }
)
HOST_SKIP = ("proc", "sys", "dev", "run")
"""Top-level directories skipped when the root is the running system's `/`."""


class RootfsSink(Protocol):
    def wants(self, path: str, size: int) -> bool: ...

    def file(self, path: str, size: int, content: bytes | Path | None) -> None: ...

    def symlink(self, path: str, target: str) -> None: ...

    def special(self, path: str, what: str) -> None:
        """A FIFO, device or socket: never opened (the sink reports it to the analyzers that want its path)."""

    def issue(self, path: str, message: str, is_error: bool) -> None: ...


def pseudo_mounts(mountinfo: Path = Path("/proc/self/mountinfo")) -> frozenset[str]:
    """Mount points of pseudo filesystems (absolute paths), from /proc/self/mountinfo."""
    out: set[str] = set()
    try:
        text = mountinfo.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return frozenset()
    for line in text.splitlines():
        left, sep, right = line.partition(" - ")
        fields = left.split()
        if not sep or len(fields) < 5 or not right:
            continue
        fstype = right.split()[0]
        if fstype in PSEUDO_FS:
            out.add(fields[4].encode().decode("unicode_escape", "replace"))
    return frozenset(out)


def _read(path: str, size: int, limit: int, spool: Path | None = None) -> bytes | Path:
    """The file's content, or (with `spool`, a directory) a temporary copy of it there."""
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0))
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise OSError("not a regular file")
        if spool is not None:
            return _copy(fd, limit, spool)
        return b"".join(_chunks(fd, limit))
    finally:
        os.close(fd)


def _chunks(fd: int, limit: int) -> Iterator[bytes]:
    """The file's content in 1 MiB chunks, at most `limit` bytes (a file growing past it is refused)."""
    total = 0
    while total <= limit:
        chunk = os.read(fd, min(1 << 20, limit + 1 - total))
        if not chunk:
            return
        total += len(chunk)
        if total > limit:
            raise OSError(f"grew over the {limit}-byte budget while read")
        yield chunk


def _copy(fd: int, limit: int, directory: Path) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    out, name = tempfile.mkstemp(prefix="member.", suffix=".tmp", dir=directory)
    try:
        with os.fdopen(out, "wb") as fh:
            for chunk in _chunks(fd, limit):
                fh.write(chunk)
    except BaseException:
        Path(name).unlink(missing_ok=True)
        raise
    return Path(name)


def _special_kind(mode: int) -> str:
    """`FIFO`, `character device`… (the sink adds the article, as the layer walk's names have none)."""
    return file_kind(mode).removeprefix("a ")


def walk_rootfs(
    root: Path,
    sink: RootfsSink,
    budgets: Budgets,
    *,
    on_file: Callable[[], None] | None = None,
    mounts: frozenset[str] | None = None,
    noted: Mapping[str, str] | None = None,
    spool_dir: Path | None = None,
    spool_over: int = 8 * 1024 * 1024,
) -> int:
    """Feed every regular file and symlink below `root` to `sink`; returns the number of files. Directories
    in `mounts` (absolute, resolved) are skipped quietly, those in `noted` with a warning giving its reason."""
    try:
        st = root.stat()
    except OSError as exc:
        raise InputError(f"cannot access: {exc.strerror}", path=str(root)) from None
    if not stat.S_ISDIR(st.st_mode):
        raise InputError("not a directory (rootfs scans a directory; use `image --input` for archives)", path=str(root))
    base = os.path.realpath(root)
    is_host = base == "/"
    skip = pseudo_mounts() if mounts is None else mounts
    seen_dirs: set[tuple[int, int]] = {(st.st_dev, st.st_ino)}
    count = 0
    stack: list[tuple[str, str]] = [(base, "")]
    while stack:
        abs_dir, rel_dir = stack.pop()
        try:
            with os.scandir(abs_dir) as it:
                items = sorted(it, key=lambda e: e.name)
        except OSError as exc:
            sink.issue(rel_dir or ".", f"cannot list directory: {exc.strerror}", False)
            continue
        subdirs: list[tuple[str, str]] = []
        for item in items:
            rel = f"{rel_dir}/{item.name}" if rel_dir else item.name
            try:
                ist = item.stat(follow_symlinks=False)
            except OSError as exc:
                sink.issue(rel, f"cannot stat: {exc.strerror}", False)
                continue
            mode = ist.st_mode
            if stat.S_ISDIR(mode):
                if is_host and not rel_dir and item.name in HOST_SKIP:
                    continue
                if item.path in skip:
                    continue
                if noted and item.path in noted:
                    sink.issue(rel, noted[item.path], False)
                    continue
                key = (ist.st_dev, ist.st_ino)
                if key in seen_dirs:
                    sink.issue(rel, "directory seen before (bind mount loop); skipped", False)
                    continue
                seen_dirs.add(key)
                subdirs.append((item.path, rel))
            elif stat.S_ISLNK(mode):
                try:
                    sink.symlink(rel, os.readlink(item.path))
                except OSError as exc:
                    sink.issue(rel, f"cannot read link: {exc.strerror}", False)
            elif stat.S_ISREG(mode):
                count += 1
                if count > budgets.max_files:
                    sink.issue(".", f"more than {budgets.max_files} files; the rest was not scanned", True)
                    return count
                size = ist.st_size
                content: bytes | Path | None = None
                if sink.wants(rel, size):
                    if size > budgets.max_member_bytes:
                        sink.issue(
                            rel,
                            f"file of {size} bytes is over the {budgets.max_member_bytes}-byte budget; not read",
                            False,
                        )
                    else:
                        try:
                            spool = spool_dir if spool_dir is not None and size > spool_over else None
                            content = _read(item.path, size, budgets.max_member_bytes, spool)
                        except OSError as exc:
                            sink.issue(rel, f"cannot read: {exc.strerror or exc}", False)
                sink.file(rel, size, content)
                if on_file is not None:
                    on_file()
            else:
                sink.special(rel, _special_kind(mode))
        stack.extend(reversed(subdirs))
    return count
