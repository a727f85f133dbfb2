"""The project config, user CEL rule files and a Docker config.json are read through the budgeted reader:
a FIFO there never blocks, an oversized file is refused before it is read."""

from __future__ import annotations

import os
import threading
from pathlib import Path

import pytest

from shareguard.core import project_config
from shareguard.core.errors import ConfigError
from shareguard.posture.cel_rules import load_rule_dirs
from shareguard.posture.parsers.yaml_safe import load_one
from shareguard.sources.registry.auth import _docker_config_auth


def _within(seconds: float, fn: object) -> object:
    """Run `fn` on a thread and fail if it has not returned in time (a FIFO read would block for ever)."""
    out: dict[str, object] = {}

    def run() -> None:
        try:
            out["value"] = fn()  # type: ignore[operator]
        except BaseException as exc:  # the caller inspects it
            out["error"] = exc

    t = threading.Thread(target=run, daemon=True)
    t.start()
    t.join(seconds)
    assert not t.is_alive(), "blocked on a special file"
    if "error" in out:
        raise out["error"]  # type: ignore[misc]
    return out.get("value")


def test_project_config_fifo_is_never_read(tmp_path: Path) -> None:
    os.mkfifo(tmp_path / ".shareguard.yaml")
    cfg = _within(10, lambda: project_config.load(tmp_path, load_one))
    assert cfg == project_config.ProjectConfig()  # only a regular file configures a scan


def test_project_config_over_budget_is_refused(tmp_path: Path) -> None:
    (tmp_path / ".shareguard.yaml").write_bytes(b"# " + b"x" * (2 * 1024 * 1024))
    with pytest.raises(ConfigError):
        project_config.load(tmp_path, load_one)


def test_cel_rule_fifo_is_a_one_line_error(tmp_path: Path) -> None:
    rules = tmp_path / "rules"
    rules.mkdir()
    os.mkfifo(rules / "x.yaml")
    with pytest.raises(ConfigError):
        _within(10, lambda: load_rule_dirs([rules / "x.yaml"], known_ids={}))
    assert _within(10, lambda: load_rule_dirs([rules], known_ids={})).rules == []  # type: ignore[attr-defined]


def test_docker_config_fifo_or_huge_int_means_no_credentials(tmp_path: Path) -> None:
    fifo = tmp_path / "config.json"
    os.mkfifo(fifo)
    assert _within(10, lambda: _docker_config_auth("registry.example", fifo)) is None
    bad = tmp_path / "huge.json"
    bad.write_text('{"auths": {"registry.example": {"auth": ' + "9" * 5000 + "}}}", encoding="utf-8")
    assert _docker_config_auth("registry.example", bad) is None
