"""`.shareguard.yaml` in the scan root."""

from __future__ import annotations

from pathlib import Path

import pytest
from cloud_helpers import FIXTURES, rule_lines, scan

from shareguard.core import project_config
from shareguard.core.errors import ConfigError
from shareguard.core.options import OptionSet
from shareguard.core.settings import Budgets
from shareguard.posture.options import PostureOptions
from shareguard.posture.parsers.yaml_safe import Located, load_one
from shareguard.scan import with_project_config


def test_no_file_gives_defaults(tmp_path: Path) -> None:
    cfg = project_config.load(tmp_path, load_one)
    assert cfg.path is None and not cfg.fips_required and cfg.trusted_registries == ()


def test_the_loader_is_the_callers_and_is_not_called_without_a_file(tmp_path: Path) -> None:
    # The core reads no YAML: the caller (shareguard.scan) hands in the posture capability's loader.
    calls: list[str] = []

    def loader(text: str, origin: str, budgets: Budgets) -> Located:
        calls.append(origin)
        return load_one(text, origin, budgets)

    assert project_config.load(tmp_path, loader) == project_config.ProjectConfig() and calls == []
    (tmp_path / ".shareguard.yml").write_text("fips: required\n")
    assert project_config.load(tmp_path, loader).fips_required
    assert calls == [str(tmp_path / ".shareguard.yml")]


def test_all_keys(tmp_path: Path) -> None:
    (tmp_path / ".shareguard.yaml").write_text(
        "fips: required\ntrusted_registries:\n  - us-docker.pkg.dev/acme/\nlong_running_days: 14\nbaseline: b.json\n"
    )
    cfg = project_config.load(tmp_path, load_one)
    assert cfg.fips_required and cfg.trusted_registries == ("us-docker.pkg.dev/acme/",)
    assert cfg.long_running_days == 14 and cfg.extra == {"baseline": "b.json"}
    merged = with_project_config(OptionSet(), cfg).get(PostureOptions)
    assert merged.fips_required and merged.long_running_days == 14
    # The command line wins where it says something; the file fills in the rest.
    given = OptionSet((PostureOptions(trusted_registries=("r.example/",)),))
    merged = with_project_config(given, cfg).get(PostureOptions)
    assert merged.trusted_registries == ("r.example/",) and merged.fips_required


@pytest.mark.parametrize(
    ("text", "line", "message"),
    [
        ("fips: maybe\n", 1, "fips"),
        ("fips: optional\nlong_running_days: -3\n", 2, "long_running_days"),
        ("trusted_registries: {a: 1}\n", 1, "trusted_registries"),
        ("- just\n- a list\n", 1, "mapping"),
        ("fips: [unclosed\n", 2, "invalid YAML"),
    ],
)
def test_malformed_file_is_a_config_error_with_line(tmp_path: Path, text: str, line: int, message: str) -> None:
    (tmp_path / ".shareguard.yaml").write_text(text)
    with pytest.raises(ConfigError) as err:
        project_config.load(tmp_path, load_one)
    assert err.value.line == line and message in err.value.message
    assert err.value.one_line().startswith(str(tmp_path / ".shareguard.yaml"))


def test_yaml_bomb_in_config(tmp_path: Path) -> None:
    lines = ['a: &a ["x","x","x","x","x","x","x","x","x","x"]']
    for i in range(1, 10):
        lines.append(f"a{i}: &a{i} [" + ",".join([f"*a{i - 1}" if i > 1 else "*a"] * 10) + "]")
    (tmp_path / ".shareguard.yaml").write_text("\n".join(lines) + "\n")
    with pytest.raises(ConfigError):
        project_config.load(tmp_path, load_one)


def test_explicit_option_wins_over_file() -> None:
    assert "FIPS-001" in rule_lines(scan(FIXTURES / "terraform" / "fips_bad"))
    assert "FIPS-001" not in rule_lines(scan(FIXTURES / "terraform" / "fips_bad", fips_required=False))
    assert "FIPS-001" in rule_lines(scan(FIXTURES / "terraform" / "fips_off", fips_required=True))


def test_cli_exit_code_2_on_malformed_config(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from shareguard.cli.main import build_app

    (tmp_path / ".shareguard.yaml").write_text("fips: sometimes\n")
    (tmp_path / "main.tf").write_text('resource "aws_kms_key" "k" {}\n')
    res = CliRunner().invoke(build_app(), ["audit", str(tmp_path)])
    assert res.exit_code == 2
    assert ".shareguard.yaml:1" in res.output.replace("\n", "")
