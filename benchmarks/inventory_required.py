"""Cost of the inventory analyzers' `required(path, size)` — called for every file of every layer.

Builds 200k paths shaped like a CUDA + PyTorch + conda image (site-packages trees, CUDA headers and
libraries, dpkg metadata, docs, node_modules) and times the loop the layer collector runs: every
registered analyzer asked about every path. Run: `python benchmarks/inventory_required.py`.
"""

from __future__ import annotations

import random
import time
from typing import Any

from shareguard.image.plugin import inventory_analyzers

N = 200_000


def realistic_paths(n: int, seed: int = 7) -> list[tuple[str, int]]:
    rnd = random.Random(seed)
    site = ["opt/conda/lib/python3.11/site-packages", "usr/local/lib/python3.10/dist-packages"]
    pkgs = [f"pkg{i}" for i in range(400)]
    exts = [".py", ".pyc", ".so", ".pyi", ".json", ".txt", ".h", ".cuh", ".md"]
    out: list[tuple[str, int]] = []
    while len(out) < n:
        r = rnd.random()
        if r < 0.55:  # python package files
            p = rnd.choice(pkgs)
            depth = "/".join(f"mod{rnd.randrange(30)}" for _ in range(rnd.randrange(1, 5)))
            out.append((f"{rnd.choice(site)}/{p}/{depth}/file{rnd.randrange(500)}{rnd.choice(exts)}", 4096))
        elif r < 0.60:  # dist-info files
            p = rnd.choice(pkgs)
            f = rnd.choice(["METADATA", "RECORD", "WHEEL", "INSTALLER", "top_level.txt", "entry_points.txt"])
            out.append((f"{rnd.choice(site)}/{p}-1.0.dist-info/{f}", 2048))
        elif r < 0.72:  # CUDA toolkit
            sub = rnd.choice(["include", "lib64", "bin", "nvvm/libdevice", "targets/x86_64-linux/include/thrust"])
            out.append(
                (f"usr/local/cuda-12.4/{sub}/f{rnd.randrange(3000)}{rnd.choice(['.h', '.so.12', '.hpp'])}", 10**6)
            )
        elif r < 0.80:  # dpkg metadata
            k = rnd.choice([".list", ".md5sums", ".postinst", ".triggers", ".shlibs"])
            out.append((f"var/lib/dpkg/info/lib{rnd.randrange(800)}{k}", 900))
        elif r < 0.90:  # docs, locales, share
            out.append(
                (
                    f"usr/share/{rnd.choice(['doc', 'locale', 'man/man1'])}/p{rnd.randrange(900)}/f{rnd.randrange(40)}",
                    700,
                )
            )
        elif r < 0.97:  # node_modules
            d = f"usr/lib/node_modules/npm/node_modules/m{rnd.randrange(300)}"
            out.append((f"{d}/{rnd.choice(['package.json', 'index.js', 'lib/x.js', 'README.md'])}", 1500))
        else:  # everything else
            out.append((f"usr/bin/tool{rnd.randrange(2000)}", 50_000))
    return out


class _NoOp:
    """Baseline: the same loop with a `required` that does nothing (the interpreter's call cost)."""

    def required(self, path: str, size: int) -> bool:
        return False


def _time(analyzers: list[Any], paths: list[tuple[str, int]]) -> tuple[float, int]:
    best, wanted = float("inf"), 0
    for _ in range(5):
        start = time.perf_counter()
        wanted = 0
        for path, size in paths:
            for a in analyzers:
                if a.required(path, size):
                    wanted += 1
        best = min(best, time.perf_counter() - start)
    return best, wanted


def main() -> None:
    analyzers: list[Any] = list(inventory_analyzers())
    paths = realistic_paths(N)
    best, wanted = _time(analyzers, paths)
    noop, _ = _time([_NoOp() for _ in analyzers], paths)
    calls = N * len(analyzers)
    print(f"{N} paths x {len(analyzers)} analyzers = {calls} required() calls in {best:.3f} s (best of 5)")
    print(f"{calls / best:,.0f} calls/s; {best / calls * 1e9:.0f} ns per call; {best / N * 1e6:.2f} µs per path")
    print(f"no-op baseline (same loop, empty required): {noop / calls * 1e9:.0f} ns per call")
    print(f"analyzer logic beyond the call itself: {(best - noop) / calls * 1e9:.0f} ns per call")
    print(f"{wanted} (path, analyzer) pairs wanted ({wanted / N:.2%} of paths)")


if __name__ == "__main__":
    main()
