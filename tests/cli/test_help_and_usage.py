"""Every sub-command's `--help` works, and every usage error is one line on stderr with exit code 2.

Both through the real entry point (`shareguard.cli.main:main`, the console script), which builds only
the named command's module, as a user's run does.
"""

from __future__ import annotations

import gc
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import typer
from typer.testing import CliRunner

from shareguard.cli import main as cli_main
from shareguard.cli.main import COMMAND_MODULES, build_app


def _walk(command: Any, path: tuple[str, ...] = ()) -> Iterator[tuple[str, ...]]:
    yield path
    for name, sub in sorted((getattr(command, "commands", None) or {}).items()):
        yield from _walk(sub, (*path, name))


def _all_commands() -> list[tuple[str, ...]]:
    return list(_walk(typer.main.get_command(build_app())))


ALL_COMMANDS = _all_commands()


def run_main(
    argv: list[str], monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> tuple[int, str, str]:
    """`shareguard ARGV` through `main()`, in this process (its gc tuning is left out)."""
    monkeypatch.setattr(sys, "argv", ["shareguard", *argv])
    monkeypatch.setattr(gc, "freeze", lambda: None)
    monkeypatch.setattr(gc, "set_threshold", lambda *a: None)
    with pytest.raises(SystemExit) as info:
        cli_main.main()
    out, err = capsys.readouterr()
    code = info.value.code
    return (code if isinstance(code, int) else 0 if code is None else 1), out, err


def test_every_command_module_is_a_command() -> None:
    top = {path[0] for path in ALL_COMMANDS if path}
    assert {name.rsplit(".", 1)[1] for name in COMMAND_MODULES} <= top
    # nested commands are enumerated too
    assert ("db", "update") in ALL_COMMANDS and ("db", "status") in ALL_COMMANDS
    assert ("controls", "show") in ALL_COMMANDS


@pytest.mark.parametrize("path", ALL_COMMANDS, ids=lambda p: " ".join(p) or "shareguard")
def test_help(path: tuple[str, ...], monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run_main([*path, "--help"], monkeypatch, capsys)
    assert code == 0, err
    assert out.strip() and "Usage:" in out
    assert err == ""
    assert f"shareguard {' '.join(path)}".strip() in out


def test_help_text_is_plain_not_markup(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    """Square brackets in help are text: rich markup would crash on `[/variant]` and drop `[registry/]`."""
    code, out, _ = run_main(["image", "--help"], monkeypatch, capsys)
    assert code == 0
    flat = " ".join(out.split())
    assert "os/arch[/variant]" in flat and "[registry/]repository[:tag][@digest]" in flat


USAGE_ERRORS = [
    (["audit", "--bogus", "."], "No such option: --bogus"),
    (["--bogus"], "No such option: --bogus"),
    (["nope"], "No such command 'nope'"),
    (["db", "nope"], "No such command 'nope'"),
    (["controls", "show"], "Missing argument"),
    (["audit"], "Missing argument"),
    (["audit", ".", "--exit-code", "300"], "--exit-code"),
    (["audit", ".", "--exit-code", "-1"], "--exit-code"),
    (["models", ".", "--exit-code", "many"], "--exit-code"),
    (["image", "--platform"], "--platform"),
    (["db", "update", "--bogus"], "No such option: --bogus"),
]


@pytest.mark.parametrize(("argv", "needle"), USAGE_ERRORS, ids=lambda v: " ".join(v) if isinstance(v, list) else "")
def test_usage_error_is_one_line_and_exit_2(
    argv: list[str], needle: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = run_main(argv, monkeypatch, capsys)
    assert code == 2
    assert out == ""
    assert err.endswith("\n") and err.count("\n") == 1, err
    assert err.startswith("error: ") and needle in err


@pytest.mark.parametrize(("argv", "needle"), USAGE_ERRORS[:4])
def test_usage_error_through_the_app_itself(argv: list[str], needle: str) -> None:
    """The app handles it, not only `main()`: typer's runner (and any embedding) sees the same line."""
    res = CliRunner().invoke(build_app(), argv)
    assert res.exit_code == 2
    assert res.stderr.count("\n") == 1 and res.stderr.startswith("error: ") and needle in res.stderr


@pytest.mark.parametrize("code", [0, 1, 255])
def test_exit_code_range_accepts_0_to_255(code: int, tmp_path: Path) -> None:
    res = CliRunner().invoke(build_app(), ["models", str(tmp_path), "-q", "-f", "json", "--exit-code", str(code)])
    assert res.exit_code == 0, res.stderr  # nothing failing in an empty directory


def test_no_arguments_shows_the_help(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run_main([], monkeypatch, capsys)
    assert code in (0, 2)
    assert "Usage:" in out + err and "audit" in out + err


def test_console_script_help_and_usage_error() -> None:
    """The real process: `shareguard image --help` and a usage error, from a fresh interpreter."""
    entry = "import sys; from shareguard.cli.main import main; sys.argv[0] = 'shareguard'; main()"
    help_run = subprocess.run(
        [sys.executable, "-c", entry, "image", "--help"], capture_output=True, text=True, timeout=120, check=False
    )
    assert help_run.returncode == 0, help_run.stderr
    assert "Usage: shareguard image" in help_run.stdout
    bad = subprocess.run(
        [sys.executable, "-c", entry, "config", ".", "--exit-code", "300"],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert bad.returncode == 2 and bad.stdout == ""
    assert bad.stderr.count("\n") == 1 and bad.stderr.startswith("error: ") and "--exit-code" in bad.stderr
