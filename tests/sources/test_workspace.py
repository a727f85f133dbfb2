"""The workspace walker: regular files only, never follows links, survives what a hostile tree holds."""

from __future__ import annotations

import os
import socket
from pathlib import Path

import pytest

from shareguard.core.context import ScanContext
from shareguard.core.errors import InputError
from shareguard.core.settings import Budgets, Settings
from shareguard.sources.workspace import check_target, walk


def _walk(root: Path, settings: Settings | None = None) -> tuple[list[str], ScanContext]:
    ctx = ScanContext(settings=settings or Settings(), root=root)
    return [e.rel_path for e in walk(root, ctx)], ctx


def test_sorted_relative_posix_paths_skipping_tool_dirs(tmp_path: Path) -> None:
    for rel in ("b/2.txt", "b/1.txt", "a.txt", ".git/config", "node_modules/x/index.js", "c/.venv/lib.py"):
        p = tmp_path / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text("x", encoding="utf-8")
    paths, ctx = _walk(tmp_path)
    assert paths == ["a.txt", "b/1.txt", "b/2.txt"]
    assert ctx.issues == []


@pytest.mark.parametrize("spelled", ["plain", "dot-slash", "trailing-slash"])
def test_relative_paths_are_those_of_path_relative_to(
    tmp_path: Path, spelled: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The walker joins relative paths as strings: the same as `Path.relative_to(root).as_posix()`, for
    odd names (spaces, dots, unicode, a leading dash) and however the root is spelled."""
    names = ("a b/c d.tf", "-x/.hidden/y.yaml", "ünï/çødé.json", "deep/er/and/deeper/..dots..", "z")
    for rel in names:
        p = tmp_path / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text("x", encoding="utf-8")
    monkeypatch.chdir(tmp_path.parent)
    root = {"plain": tmp_path, "dot-slash": Path(f"./{tmp_path.name}"), "trailing-slash": Path(f"{tmp_path.name}/")}[
        spelled
    ]
    ctx = ScanContext(settings=Settings(), root=root)
    entries = list(walk(root, ctx))
    assert sorted(e.rel_path for e in entries) == sorted(names)
    for e in entries:
        assert e.abs_path is not None and e.abs_path.relative_to(root).as_posix() == e.rel_path


def test_symlink_loop_and_escaping_links_are_not_followed(tmp_path: Path) -> None:
    root = tmp_path / "ws"
    (root / "d").mkdir(parents=True)
    (root / "d" / "f.txt").write_text("x", encoding="utf-8")
    (root / "d" / "loop").symlink_to(root / "d", target_is_directory=True)
    (root / "self").symlink_to(root, target_is_directory=True)
    outside = tmp_path / "secret.txt"
    outside.write_text("outside the root", encoding="utf-8")
    (root / "escape.txt").symlink_to(outside)
    (root / "escape_dir").symlink_to(tmp_path, target_is_directory=True)
    (root / "dangling").symlink_to(tmp_path / "missing")
    paths, ctx = _walk(root)
    assert paths == ["d/f.txt"]
    assert ctx.issues == []


def test_special_files_are_skipped_without_blocking(tmp_path: Path) -> None:
    os.mkfifo(tmp_path / "fifo")  # opening it for reading would block forever
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        sock.bind(str(tmp_path / "sock"))
        (tmp_path / "real.txt").write_text("x", encoding="utf-8")
        paths, _ = _walk(tmp_path)
    finally:
        sock.close()
    assert paths == ["real.txt"]


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads every file and directory regardless of mode")
def test_unreadable_directory_is_an_issue_not_a_crash(tmp_path: Path) -> None:
    locked = tmp_path / "locked"
    locked.mkdir()
    (locked / "f.txt").write_text("x", encoding="utf-8")
    (tmp_path / "ok.txt").write_text("x", encoding="utf-8")
    locked.chmod(0)
    try:
        paths, ctx = _walk(tmp_path)
    finally:
        locked.chmod(0o700)
    assert paths == ["ok.txt"]
    assert [i.path for i in ctx.issues] == ["locked"]


def test_unreadable_file_is_an_error_for_the_analyzer_that_opens_it(tmp_path: Path) -> None:
    """The walker yields it (stat works); opening it fails as an InputError, which the engine records per file."""
    f = tmp_path / "gone.txt"
    f.write_text("x", encoding="utf-8")
    ctx = ScanContext(settings=Settings(), root=tmp_path)
    entries = list(walk(tmp_path, ctx))
    f.unlink()  # vanishes between the walk and the read, as on a live file system
    with pytest.raises(InputError, match="cannot read"):
        entries[0].head()


def test_file_budget(tmp_path: Path) -> None:
    for i in range(5):
        (tmp_path / f"{i}.txt").write_text("x", encoding="utf-8")
    paths, ctx = _walk(tmp_path, Settings(budgets=Budgets(max_files=3)))
    assert len(paths) == 3
    assert any("more than 3 files" in i.message for i in ctx.issues)


def test_single_file_and_missing_paths(tmp_path: Path) -> None:
    f = tmp_path / "Dockerfile"
    f.write_text("FROM scratch\n", encoding="utf-8")
    paths, _ = _walk(f)
    assert paths == ["Dockerfile"]
    with pytest.raises(InputError, match="no such file or directory"):
        check_target(tmp_path / "missing")


def test_the_own_cache_directory_is_not_scanned(tmp_path: Path) -> None:
    for rel in ("a.py", "cache/data/x.json", "cache/layers/y", "sub/cache/z.json", "cachex/w.json"):
        p = tmp_path / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text("{}", encoding="utf-8")
    paths, ctx = _walk(tmp_path, Settings(cache_dir=tmp_path / "cache"))
    assert paths == ["a.py", "cachex/w.json", "sub/cache/z.json"]  # only the cache itself, by path
    # said, not silent: a folder of the user's that the setting points at would otherwise vanish from the scan
    assert [(i.path, i.kind) for i in ctx.issues] == [("cache", "warning")] and "cache directory" in ctx.issues[
        0
    ].message
    paths, ctx = _walk(tmp_path, Settings(cache_dir=tmp_path / "sub" / "cache"))
    assert paths == ["a.py", "cache/data/x.json", "cache/layers/y", "cachex/w.json"]
    assert [i.path for i in ctx.issues] == ["sub/cache"]
    paths, ctx = _walk(tmp_path / "cache", Settings(cache_dir=tmp_path / "cache"))  # asked for it: scanned
    assert paths == ["data/x.json", "layers/y"] and not ctx.issues
    paths, ctx = _walk(tmp_path, Settings(cache_dir=tmp_path.parent / "elsewhere"))
    assert len(paths) == 5 and not ctx.issues
