"""`--output` touches nothing but the output (`core/output.py`): devices and FIFOs are written through, never
replaced; a FIFO nobody reads is refused, not waited for forever; a symlinked output is never followed
into another directory."""

from __future__ import annotations

import os
import stat
import threading
from pathlib import Path

import pytest

from shareguard.core import output
from shareguard.core.errors import ConfigError
from shareguard.core.output import write_atomically, write_output


def _null_device(tmp_path: Path) -> Path:
    """A real character device node (major/minor of /dev/null) in tmp_path; the test skips without root."""
    node = tmp_path / "null"
    try:
        os.mknod(node, stat.S_IFCHR | 0o666, os.makedev(1, 3))
    except (PermissionError, OSError) as exc:
        pytest.skip(f"cannot create a device node here: {exc}")
    return node


def test_character_device_is_written_through_not_replaced(tmp_path: Path) -> None:
    node = _null_device(tmp_path)
    write_atomically(node, "report\n")
    st = os.lstat(node)
    assert stat.S_ISCHR(st.st_mode) and st.st_rdev == os.makedev(1, 3)  # still the device, not a regular file
    assert [p.name for p in tmp_path.iterdir()] == ["null"]  # no temporary file left beside it


def test_dev_null_is_opened_as_a_device(monkeypatch: pytest.MonkeyPatch) -> None:
    """`-o /dev/null` as root once deleted the system's /dev/null: it must take the write-through path."""

    def never(path: Path, write: output.Writer) -> None:  # pragma: no cover - the bug this test guards
        raise AssertionError("would replace /dev/null")

    monkeypatch.setattr(output, "_write_replacing", never)
    write_atomically(Path("/dev/null"), "x" * 100_000)
    assert stat.S_ISCHR(os.lstat("/dev/null").st_mode)


def test_fifo_with_a_reader_gets_the_report(tmp_path: Path) -> None:
    fifo = tmp_path / "report.fifo"
    os.mkfifo(fifo)
    got: list[bytes] = []

    def reader() -> None:
        with open(fifo, "rb") as fh:  # blocks until the writer opens
            got.append(fh.read())

    t = threading.Thread(target=reader)
    t.start()
    write_output(fifo, lambda fh: fh.write("line\n" * 50_000))  # more than a pipe buffer
    t.join(10)
    assert got == [b"line\n" * 50_000]
    assert stat.S_ISFIFO(os.lstat(fifo).st_mode)


def test_fifo_without_a_reader_is_refused_not_a_hang(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(output, "FIFO_WAIT_SECONDS", 0.2)
    fifo = tmp_path / "nobody.fifo"
    os.mkfifo(fifo)
    with pytest.raises(ConfigError, match="FIFO that no process reads") as err:
        write_atomically(fifo, "x")
    assert err.value.path == str(fifo)
    assert stat.S_ISFIFO(os.lstat(fifo).st_mode)


def test_symlink_into_another_directory_is_refused(tmp_path: Path) -> None:
    other = tmp_path / "other"
    other.mkdir()
    victim = other / "authorized_keys"
    victim.write_text("keep me\n")
    out = tmp_path / "out"
    out.mkdir()
    link = out / "report.json"
    link.symlink_to(victim)
    with pytest.raises(ConfigError, match=r"symbolic link to .*authorized_keys") as err:
        write_atomically(link, "{}")
    assert str(link) in err.value.one_line()
    assert victim.read_text() == "keep me\n"  # not written through
    assert link.is_symlink()  # not replaced either
    assert sorted(p.name for p in out.iterdir()) == ["report.json"]


def test_dangling_symlink_is_refused(tmp_path: Path) -> None:
    link = tmp_path / "r.json"
    link.symlink_to(tmp_path / "elsewhere" / "new.json")
    with pytest.raises(ConfigError, match=r"symbolic link .*nothing"):
        write_atomically(link, "{}")
    assert not (tmp_path / "elsewhere").exists()


def test_symlink_to_a_device_is_written_through(tmp_path: Path) -> None:
    link = tmp_path / "stdout-like"
    link.symlink_to("/dev/null")
    write_atomically(link, "x")
    assert link.is_symlink() and stat.S_ISCHR(os.stat(link).st_mode)


def test_regular_file_is_replaced_atomically(tmp_path: Path) -> None:
    target = tmp_path / "r.json"
    target.write_text("old")
    write_output(target, lambda fh: (fh.write("new"), None)[1])
    assert target.read_text() == "new"
    assert [p.name for p in tmp_path.iterdir()] == ["r.json"]


def test_failed_writer_leaves_the_old_file(tmp_path: Path) -> None:
    target = tmp_path / "r.json"
    target.write_text("old")

    def boom(fh: object) -> None:
        raise RuntimeError("renderer failed")

    with pytest.raises(RuntimeError):
        write_output(target, boom)  # type: ignore[arg-type]
    assert target.read_text() == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["r.json"]


def test_socket_is_refused(tmp_path: Path) -> None:
    import socket

    path = tmp_path / "s"
    with socket.socket(socket.AF_UNIX) as s:
        s.bind(str(path))
        with pytest.raises(ConfigError, match="socket; not replaced"):
            write_atomically(path, "x")
    assert stat.S_ISSOCK(os.lstat(path).st_mode)
