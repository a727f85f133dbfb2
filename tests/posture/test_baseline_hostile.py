"""Hostile baseline files: deep JSON, a 5,000-digit number, a FIFO — one-line `ConfigError`s (exit 2)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from core.test_waivers_hostile import finishes
from shareguard.core.errors import ConfigError
from shareguard.posture.baseline import load_baseline


@pytest.mark.parametrize(
    "text",
    [
        '{"findings": ' + "[" * 100_000 + "]" * 100_000 + "}",
        '{"version": ' + "9" * 5000 + ', "findings": []}',
        '{"findings": [' + "{}," * 3 + "]",
    ],
    ids=["deep", "huge-int", "syntax"],
)
def test_malformed_baseline_is_one_line(tmp_path: Path, text: str) -> None:
    p = tmp_path / "baseline.json"
    p.write_text(text)
    with pytest.raises(ConfigError) as err:
        load_baseline(p)
    assert err.value.path == str(p) and len(err.value.one_line()) < 300


def test_fifo_baseline_is_refused(tmp_path: Path) -> None:
    fifo = tmp_path / "baseline.json"
    os.mkfifo(fifo)
    with pytest.raises(ConfigError, match="FIFO"):
        finishes(lambda: load_baseline(fifo))
