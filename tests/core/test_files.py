"""The budgeted reader (`core/files.py`): regular files only, never more than the budget read, never a hang."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from shareguard.core.errors import BudgetExceeded, InputError
from shareguard.core.files import read_head, read_regular, read_regular_text


def test_regular_file_is_read_whole(tmp_path: Path) -> None:
    p = tmp_path / "a.txt"
    p.write_bytes(b"x" * 100)
    assert read_regular(p, 100) == b"x" * 100
    assert read_regular_text(p, 100) == "x" * 100


def test_fifo_is_refused_at_once(tmp_path: Path) -> None:
    fifo = tmp_path / "main.tf"
    os.mkfifo(fifo)  # no writer: a plain open() would block for ever
    with pytest.raises(InputError, match="is a FIFO, not a regular file") as err:
        read_regular(fifo, 1024)
    assert err.value.path == str(fifo)


@pytest.mark.skipif(not Path("/dev/zero").exists(), reason="no /dev/zero")
def test_endless_device_is_refused() -> None:
    with pytest.raises(InputError, match="character device"):
        read_regular("/dev/zero", 1024)


def test_over_budget_is_refused_before_reading(tmp_path: Path) -> None:
    huge = tmp_path / "huge.yaml"
    with huge.open("wb") as fh:
        fh.truncate(3 * 1024**3)  # a sparse 3 GiB file: refused by size, nothing read
    with pytest.raises(BudgetExceeded, match="over the 1024-byte budget"):
        read_regular(huge, 1024)


def test_exactly_the_budget_is_fine(tmp_path: Path) -> None:
    p = tmp_path / "a"
    p.write_bytes(b"y" * 64)
    assert read_regular(p, 64) == b"y" * 64
    with pytest.raises(BudgetExceeded):
        read_regular(p, 63)


def test_symlink_refused_when_not_followed(tmp_path: Path) -> None:
    target = tmp_path / "t"
    target.write_text("x")
    link = tmp_path / "l"
    link.symlink_to(target)
    assert read_regular(link, 10) == b"x"
    with pytest.raises(InputError, match="symbolic link"):
        read_regular(link, 10, follow_symlinks=False)


def test_directory_and_missing_are_one_line_errors(tmp_path: Path) -> None:
    with pytest.raises(InputError, match=r"directory|cannot read"):
        read_regular(tmp_path, 10)
    with pytest.raises(InputError, match="cannot read"):
        read_regular(tmp_path / "missing", 10)


def test_text_decoding_errors(tmp_path: Path) -> None:
    p = tmp_path / "bin"
    p.write_bytes(b"\xff\xfe")
    with pytest.raises(InputError, match="not UTF-8"):
        read_regular_text(p, 10)
    assert read_regular_text(p, 10, errors="replace") == "\ufffd\ufffd"


def test_file_entry_refuses_a_path_swapped_for_a_fifo(tmp_path: Path) -> None:
    """The walker saw a regular file; by the time an analyzer reads it, it is a FIFO: refused, not waited for."""
    from shareguard.core.entry import FileEntry

    fifo = tmp_path / "model.pkl"
    os.mkfifo(fifo)
    entry = FileEntry(rel_path="model.pkl", size=10, abs_path=fifo)
    with pytest.raises(InputError, match="FIFO"):
        entry.read(1024)
    with pytest.raises(InputError, match="FIFO"):
        entry.head()


@pytest.mark.parametrize("size", [0, 1, 4095, 4096, 4097, 70_000])
def test_head_is_the_first_bytes(tmp_path: Path, size: int) -> None:
    p = tmp_path / "f.bin"
    content = bytes(i % 251 for i in range(size))
    p.write_bytes(content)
    assert read_head(p, 4096) == content[:4096]
    assert read_head(p, 100_000) == content


def test_head_of_a_fifo_or_device_is_refused_at_once(tmp_path: Path) -> None:
    fifo = tmp_path / "Dockerfile"
    os.mkfifo(fifo)
    with pytest.raises(InputError, match="is a FIFO, not a regular file") as err:
        read_head(fifo, 4096, origin="Dockerfile")
    assert err.value.path == "Dockerfile"
    if Path("/dev/zero").exists():
        with pytest.raises(InputError, match="character device"):
            read_head("/dev/zero", 4096)
