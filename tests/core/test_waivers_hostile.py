"""Hostile waiver files: a FIFO, a 3 GiB file, 100k-deep YAML, a 5,000-digit `expires` — each one line
(`WaiverError`, exit 2), never a hang, a traceback or an exhausted memory."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from shareguard.core.errors import WaiverError
from shareguard.core.waivers import load_waivers


def finishes(fn: Callable[[], Any], seconds: float = 10.0) -> Any:
    """Run `fn` in a thread: its result (or its exception, re-raised), failing the test if it blocks."""
    box: dict[str, Any] = {}

    def run() -> None:
        try:
            box["value"] = fn()
        except BaseException as exc:  # handed to the test
            box["error"] = exc

    t = threading.Thread(target=run, daemon=True)
    t.start()
    t.join(seconds)
    if t.is_alive():
        pytest.fail(f"still blocked after {seconds}s (a FIFO opened without O_NONBLOCK?)")
    if "error" in box:
        raise box["error"]
    return box.get("value")


def test_fifo_waiver_file_is_refused_not_waited_for(tmp_path: Path) -> None:
    fifo = tmp_path / ".shareguard-ignore.yaml"
    os.mkfifo(fifo)
    with pytest.raises(WaiverError, match="FIFO, not a regular file"):
        finishes(lambda: load_waivers(fifo))


def test_huge_waiver_file_is_refused_before_it_is_read(tmp_path: Path) -> None:
    """3 GiB (sparse): refused by its size, under a 1 GiB address-space limit that reading it would break."""
    huge = tmp_path / "ignore.yaml"
    with huge.open("wb") as fh:
        fh.truncate(3 * 1024**3)
    code = (
        "import resource, sys\n"
        "resource.setrlimit(resource.RLIMIT_AS, (1536 << 20, 1536 << 20))\n"
        "from pathlib import Path\n"
        "from shareguard.core.errors import WaiverError\n"
        "from shareguard.core.waivers import load_waivers\n"
        "try:\n"
        "    load_waivers(Path(sys.argv[1]))\n"
        "except WaiverError as exc:\n"
        "    print(exc.one_line())\n"
    )
    out = subprocess.run([sys.executable, "-c", code, str(huge)], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr[-2000:]
    assert "over 4 MiB" in out.stdout


def test_deep_yaml_is_one_line(tmp_path: Path) -> None:
    p = tmp_path / "w.yaml"
    p.write_text("waivers: " + "[" * 100_000 + "]" * 100_000 + "\n")
    with pytest.raises(WaiverError, match=r"nested (too deeply|deeper than)"):
        load_waivers(p)


def test_huge_integer_expires_is_one_line(tmp_path: Path) -> None:
    p = tmp_path / "w.yaml"
    p.write_text(f"waivers:\n  - rule: X\n    reason: r\n    expires: {'9' * 5000}\n")
    with pytest.raises(WaiverError) as err:
        load_waivers(p)
    assert len(err.value.one_line()) < 300


def test_huge_quoted_expires_is_shortened(tmp_path: Path) -> None:
    p = tmp_path / "w.yaml"
    p.write_text(f"waivers:\n  - rule: X\n    reason: r\n    expires: '{'9' * 5000}'\n")
    with pytest.raises(WaiverError, match="must be a date") as err:
        load_waivers(p)
    assert len(err.value.one_line()) < 300 and err.value.line == 2


def test_deep_flow_nesting_is_refused_fast(tmp_path: Path) -> None:
    """PyYAML's scanner is quadratic in flow nesting: a few thousand brackets took seconds."""
    import time

    path = tmp_path / ".shareguard-ignore.yaml"
    path.write_text("waivers: " + "[" * 5000 + "]" * 5000 + "\n", encoding="utf-8")
    started = time.process_time()
    with pytest.raises(WaiverError, match="nested deeper"):
        load_waivers(path)
    assert time.process_time() - started < 0.5
    # Brackets inside quotes or comments are text, not nesting.
    path.write_text(
        'waivers:\n  - rule: R-1  # [[[[\n    reason: "[' + "[" * 100 + '"\n    expires: 2099-01-01\n',
        encoding="utf-8",
    )
    assert len(load_waivers(path)) == 1
