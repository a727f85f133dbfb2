"""The CLI imports only the module of the command it runs; help still lists every command."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from shareguard.cli.main import COMMAND_MODULES, build_app, modules_for


def test_a_command_line_needs_only_its_module() -> None:
    assert modules_for(["config", "."]) == ("shareguard.cli.config",)
    assert modules_for(["controls", "show", "IAM-C-01"]) == ("shareguard.cli.controls",)


def test_help_and_unknown_commands_get_every_module() -> None:
    for argv in ([], ["--help"], ["nope"], ["config.py"], ["--help", "--version"]):
        assert modules_for(argv) == COMMAND_MODULES


def test_a_leading_version_needs_no_module() -> None:
    assert modules_for(["--version"]) == modules_for(["--version", "image", "--help"]) == ()


@pytest.mark.parametrize("argv", [["--version"], ["--version", "image"], ["--version", "nope"], ["--version", "-x"]])
def test_version_is_the_same_either_way(argv: list[str]) -> None:
    full = CliRunner().invoke(build_app(), argv)
    lazy = CliRunner().invoke(build_app(argv), argv)
    assert (full.exit_code, full.output) == (lazy.exit_code, lazy.output)


def test_root_help_lists_every_command_with_its_help() -> None:
    full = CliRunner().invoke(build_app(), ["--help"])
    lazy = CliRunner().invoke(build_app(["--help"]), ["--help"])
    assert full.exit_code == lazy.exit_code == 0
    assert full.output == lazy.output
    for cmd in ("audit", "image", "rootfs", "config", "models", "controls", "db"):
        assert f" {cmd} " in lazy.output


def test_command_help_is_the_same_either_way() -> None:
    full = CliRunner().invoke(build_app(), ["config", "--help"])
    lazy = CliRunner().invoke(build_app(["config", "--help"]), ["config", "--help"])
    assert full.exit_code == lazy.exit_code == 0
    assert full.output == lazy.output


def test_unknown_command_still_suggests() -> None:
    res = CliRunner().invoke(build_app(["confi"]), ["confi"])
    assert res.exit_code == 2
    assert "config" in res.output
