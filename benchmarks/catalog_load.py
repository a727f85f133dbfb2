"""Catalog load time: the bundled catalog is loaded on every command, so it must stay fast.

Run: python benchmarks/catalog_load.py
"""

from __future__ import annotations

import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from importlib import resources
from pathlib import Path

from shareguard.catalog.loader import load_catalog_from


def _time(fn: Callable[[], object], runs: int = 20) -> tuple[float, float]:
    samples = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - start)
    return statistics.median(samples) * 1000, max(samples) * 1000


def main() -> None:
    data = Path(str(resources.files("shareguard.catalog").joinpath("data")))
    services, frameworks = data / "services", data / "frameworks"
    med, worst = _time(lambda: load_catalog_from(services, frameworks, trusted=True))
    print(f"bundled catalog (libyaml):          median {med:6.1f} ms  max {worst:6.1f} ms")
    med, worst = _time(lambda: load_catalog_from(services, frameworks))
    print(f"same files as --catalog (pure Py):  median {med:6.1f} ms  max {worst:6.1f} ms")
    start = time.perf_counter()
    for _ in range(5):
        subprocess.run(
            [sys.executable, "-c", "from shareguard.cli.main import main; main()", "controls", "--service", "dataflow"],
            check=True,
            capture_output=True,
        )
    per_run = (time.perf_counter() - start) / 5 * 1000
    print(f"`shareguard controls --service dataflow` as a process (imports included): {per_run:.0f} ms")


if __name__ == "__main__":
    main()
