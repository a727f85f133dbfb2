"""ruff and mypy run as tests, so the README's one test command checks everything CI checks."""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _run(tool: str, *args: str) -> None:
    # Part of the test extras: missing is a broken install, never a skip (it would hide lint errors).
    assert importlib.util.find_spec(tool) is not None, f"{tool} is not installed (pip install -e '.[test]')"
    proc = subprocess.run([sys.executable, "-m", tool, *args], cwd=ROOT, capture_output=True, text=True, timeout=900)
    assert proc.returncode == 0, f"{tool} {' '.join(args)} failed:\n{proc.stdout[-6000:]}{proc.stderr[-2000:]}"


def test_ruff_check() -> None:
    _run("ruff", "check", "src", "tests")


def test_ruff_format() -> None:
    _run("ruff", "format", "--check", "src", "tests")


def test_mypy_strict_on_src() -> None:
    _run("mypy")  # files and strictness come from [tool.mypy] in pyproject.toml
