"""Matching speed: (package, advisory) pairs evaluated per second, and raw version comparisons per second.

Imports the real PyPA advisory set (shared data) into a temporary database, builds an inventory of
packages with versions drawn from the advisories' own version lists (so most candidates are real
near-misses or hits, the expensive case), then times the matcher over it: warm (candidates loaded,
version keys cached, as for every package after the first of its name in a scan; best of --repeat
runs, wall and CPU time) and cold (fresh matcher and empty version-key cache, as for a one-off scan).

    taskset -c 1 python benchmarks/vuln_match.py [PATH/TO/pypa-advisory-database/vulns] [--packages N] [--repeat R]

The script only uses the matcher's public entry points, so the same file measures an older checkout
(`PYTHONPATH=OLD/src python benchmarks/vuln_match.py`) for a before/after comparison.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import sys
import tempfile
import time
from pathlib import Path

from shareguard.core.facts import Package
from shareguard.vuln.importer import import_path
from shareguard.vuln.matcher import Matcher
from shareguard.vuln.store import VulnStore
from shareguard.vuln.versions import APK, DPKG, PEP440, RPM, SEMVER, _cached_key

DEFAULT = Path(__file__).resolve().parents[2] / "shared" / "data" / "osv" / "pypa-advisory-database" / "vulns"


def inventory(store: VulnStore, count: int, *, patched: bool = False, seed: int = 7) -> list[Package]:
    """`patched=False`: versions drawn from the advisories' affected lists (worst case: most pairs match).
    `patched=True`: each package at a version past every fix of its advisories (a well-kept image)."""
    rng = random.Random(seed)
    rows = store._db.execute("SELECT name, versions, ranges FROM affected WHERE ecosystem='PyPI'").fetchall()
    pool: dict[str, tuple[list[str], list[str]]] = {}
    for name, versions, ranges in rows:
        listed, fixes = pool.setdefault(name, ([], []))
        listed.extend(json.loads(versions))
        fixes.extend(v for t, evs in json.loads(ranges) if t == "ECOSYSTEM" for k, v in evs if k == "fixed")
    names = sorted(pool)
    out = []
    for i in range(count):
        name = names[i % len(names)]
        listed, fixes = pool[name]
        if patched:
            valid = [f for f in fixes if _valid(f)]
            version = max(valid, key=PEP440.key) if valid else "99.0"
        else:
            version = rng.choice([*listed, "99.0.0", "0.0.1"])
        out.append(
            Package(
                name=name, version=version, ecosystem="PyPI", path=f"site-packages/{name}-{i}.dist-info", origin="pip"
            )
        )
    return out


def dense(count: int) -> list[Package]:
    """Packages with hundreds of advisories each, at releases across their history: pair evaluation dominates."""
    versions = ["1.15.0", "2.0.0", "2.3.1", "2.4.0", "2.5.3", "2.7.0", "2.9.1", "2.11.0", "2.12.0", "2.16.1"]
    names = ("tensorflow", "tensorflow-gpu", "tensorflow-cpu")
    return [
        Package(name=names[i % 3], version=versions[i % len(versions)], ecosystem="PyPI", path=f"p{i}", origin="pip")
        for i in range(count // 10)
    ]


def _valid(version: str) -> bool:
    try:
        PEP440.key(version)
    except ValueError:
        return False
    return True


def cold(store: VulnStore, packages: list[Package], repeat: int) -> tuple[float, float, int, int]:
    """Best wall and CPU time of `repeat` one-off scans (fresh matcher, empty version-key cache): the
    SQLite fetches, parsing every version string and compiling the ranges are included."""
    best = cpu = float("inf")
    pairs = hits = 0
    for _ in range(repeat):
        _cached_key.cache_clear()
        matcher = Matcher(store)
        start, start_cpu = time.perf_counter(), time.process_time()
        hits = sum(len(matcher.match(p)) for p in packages)
        best = min(best, time.perf_counter() - start)
        cpu = min(cpu, time.process_time() - start_cpu)
        pairs = matcher.stats.candidates
    return best, cpu, pairs, hits


def version_comparisons() -> None:
    """Raw comparisons of cached keys per ecosystem order (what one range event costs)."""
    samples = {
        PEP440: ["1.13.0+cu117", "2.2.0", "2.2.0rc1", "1.0.post1", "2.6.0", "0.9.1"],
        DPKG: ["3.0.11-1~deb12u2", "1:2.0-1", "2.36-9+deb12u4", "1.0~rc1-1", "7.88.1-10+deb12u5", "1.2"],
        APK: ["1.2.3-r1", "1.2.3-r10", "3.1.4_rc1-r0", "2.0_p1", "1.10", "1.9"],
        SEMVER: ["4.17.21", "4.17.20", "1.0.0-alpha.1", "2.0.0", "0.1.0", "10.0.0"],
        RPM: ["1.0-1.el9", "1:1.0-1", "2.0~rc1-3", "1.0^git1-1", "2.0.1-2", "0.9-9"],
    }
    for scheme, raw in samples.items():
        keys = [scheme.key(v) for v in raw]
        pairs = [(a, b) for a in keys for b in keys] * 2000
        start = time.process_time()
        for a, b in pairs:
            a < b  # noqa: B015 - the comparison is what is timed
        elapsed = time.process_time() - start
        print(f"  {scheme.name:<7} {len(pairs) / elapsed:>14,.0f} comparisons/CPU-s")


def warm(store: VulnStore, packages: list[Package], repeat: int) -> tuple[float, float, int]:
    """Best wall and best CPU time of `repeat` passes over warm caches, and pairs per pass."""
    matcher = Matcher(store)
    for p in packages:  # warm the candidate and key caches
        matcher.match(p)
    matcher.stats.candidates = 0
    best = cpu = float("inf")
    for _ in range(repeat):
        start, start_cpu = time.perf_counter(), time.process_time()
        for p in packages:
            matcher.match(p)
        best = min(best, time.perf_counter() - start)
        cpu = min(cpu, time.process_time() - start_cpu)
    return best, cpu, matcher.stats.candidates // repeat


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("vulns", nargs="?", type=Path, default=DEFAULT)
    parser.add_argument("--packages", type=int, default=20_000)
    parser.add_argument("--repeat", type=int, default=7)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        store = VulnStore(Path(tmp) / "vuln.sqlite", create=True)
        import_path(store, args.vulns)
        affinity = sorted(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else "?"
        print(f"machine: {os.cpu_count()} cores, running on {affinity}, load average {os.getloadavg()[0]:.1f}")
        scenarios = (
            ("vulnerable versions", inventory(store, args.packages, patched=False)),
            ("patched versions", inventory(store, args.packages, patched=True)),
            ("dense (tensorflow, -gpu, -cpu: ~280 advisories each)", dense(args.packages)),
        )
        for label, packages in scenarios:
            cold_wall, cold_cpu, cand, hits = cold(store, packages, max(1, args.repeat // 2))
            print(
                f"{label}: {len(packages)} packages over {len({p.name for p in packages})} names, {cand:,} (package, advisory) "
                f"pairs, {hits:,} matches (load {os.getloadavg()[0]:.1f})"
            )
            print(
                f"  cold (best of {max(1, args.repeat // 2)}, empty caches: SQLite fetch + parsing included): "
                f"{cold_wall:.3f} s wall, {cold_cpu:.3f} s CPU, {cand / cold_cpu:,.0f} pairs/CPU-s"
            )
            best, cpu, cand = warm(store, packages, args.repeat)
            print(
                f"  warm (best of {args.repeat}): {best:.3f} s wall, {cand / best:,.0f} pairs/s; "
                f"{cpu:.3f} s CPU, {cand / cpu:,.0f} pairs/CPU-s; {cpu / len(packages) * 1e6:.2f} µs CPU per package"
            )
        store.close()
    print("version comparisons (cached keys):")
    version_comparisons()
    return 0


if __name__ == "__main__":
    sys.exit(main())
