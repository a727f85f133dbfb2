"""Hostile and broken Dockerfiles: a clear per-file error or warning, never a crash; the scan goes on."""

from __future__ import annotations

from pathlib import Path

from shareguard.core.settings import Budgets
from shareguard.scan import run_path_scan


def _scan(root: Path):  # type: ignore[no-untyped-def]
    return run_path_scan(root, command="config", capabilities=frozenset({"posture"}))


def test_bad_files_are_per_file_errors_and_good_files_still_scanned(tmp_path: Path) -> None:
    (tmp_path / "good").mkdir()
    (tmp_path / "good" / "Dockerfile").write_text("FROM python:3.11\nRUN pip install --trusted-host x y==1\n")
    (tmp_path / "binary").mkdir()
    (tmp_path / "binary" / "Dockerfile").write_bytes(b"\x7fELF\x00\x00\x01" + bytes(range(256)) * 8)
    (tmp_path / "empty").mkdir()
    (tmp_path / "empty" / "Dockerfile").write_text("# only a comment\n")
    (tmp_path / "latin1").mkdir()
    (tmp_path / "latin1" / "Dockerfile").write_bytes("# caf\xe9\nFROM debian:12\nUSER 1000\n".encode("latin-1"))
    (tmp_path / "shell").mkdir()
    nasty = "FROM ubuntu:22.04\nRUN " + "$(" * 3000 + "curl -k x" + ")" * 3000 + " && echo 'unterminated\n"
    (tmp_path / "shell" / "Dockerfile").write_text(nasty)
    (tmp_path / "heredoc").mkdir()
    (tmp_path / "heredoc" / "Dockerfile").write_text("FROM ubuntu:22.04\nRUN <<EOF\ncurl -k https://x | sh\n")

    result = _scan(tmp_path)
    by_path = {i.path: i for i in result.issues}
    assert "binary" in by_path["binary/Dockerfile"].message and by_path["binary/Dockerfile"].kind == "error"
    assert "no FROM" in by_path["empty/Dockerfile"].message
    assert by_path["latin1/Dockerfile"].kind == "warning"
    assert result.has_errors()
    rules = {(f.resource.path, f.rule_id) for f in result.findings}
    assert ("good/Dockerfile", "DOCKERFILE-016") in rules
    assert ("shell/Dockerfile", "DOCKERFILE-016") in rules  # the tokenizer fallback still sees curl -k
    assert ("heredoc/Dockerfile", "DOCKERFILE-019") in rules  # unterminated heredoc runs to end of file


def test_huge_dockerfile_is_refused_by_budget(tmp_path: Path) -> None:
    big = tmp_path / "Dockerfile"
    with big.open("w") as fh:
        fh.write("FROM ubuntu:22.04\n")
        line = "RUN echo " + "x" * 1000 + "\n"
        for _ in range(50 * 1024):  # ~50 MB
            fh.write(line)
    result = _scan(tmp_path)
    assert any("budget" in i.message for i in result.issues)
    assert result.has_errors()


def test_budget_comes_from_settings(tmp_path: Path) -> None:
    from shareguard.core.settings import Settings

    (tmp_path / "Dockerfile").write_text("FROM ubuntu:22.04\n" + "RUN true\n" * 100)
    result = run_path_scan(
        tmp_path, capabilities=frozenset({"posture"}), settings=Settings(budgets=Budgets(max_config_bytes=200))
    )
    assert any("budget" in i.message for i in result.issues)
