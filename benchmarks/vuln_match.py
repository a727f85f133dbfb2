"""Matching speed: (package, advisory) pairs evaluated per second, and raw version comparisons per second.

Imports the real PyPA advisory set (shared data) into a temporary database, builds an inventory of
packages with versions drawn from the advisories' own version lists (so most candidates are real
near-misses or hits, the expensive case), then times the matcher over it: warm (candidates loaded,
version keys cached, as for every package after the first in a scan) and cold (fresh matcher and
empty version-key cache, as for a one-off scan).

    python benchmarks/vuln_match.py [PATH/TO/pypa-advisory-database/vulns] [--packages N]
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


def run(store: VulnStore, packages: list[Package]) -> tuple[float, int, int]:
    matcher = Matcher(store)
    start = time.perf_counter()
    hits = sum(len(matcher.match(p)) for p in packages)
    elapsed = time.perf_counter() - start
    return elapsed, matcher.stats.candidates, hits


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


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("vulns", nargs="?", type=Path, default=DEFAULT)
    parser.add_argument("--packages", type=int, default=20_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        store = VulnStore(Path(tmp) / "vuln.sqlite", create=True)
        import_path(store, args.vulns)
        print(f"machine: {os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f}")
        scenarios = (
            ("vulnerable versions", inventory(store, args.packages, patched=False)),
            ("patched versions", inventory(store, args.packages, patched=True)),
            ("dense (tensorflow, -gpu, -cpu: ~280 advisories each)", dense(args.packages)),
        )
        for label, packages in scenarios:
            _cached_key.cache_clear()
            cold, cand, hits = run(store, packages)
            print(
                f"{label}: {len(packages)} packages over {len({p.name for p in packages})} names, {cand:,} (package, advisory) "
                f"pairs, {hits:,} matches"
            )
            print(f"  cold (empty caches: SQLite fetch + parsing included): {cold:.3f} s, {cand / cold:,.0f} pairs/s")
            matcher = Matcher(store)
            for p in packages:  # warm the candidate and key caches
                matcher.match(p)
            matcher.stats.candidates = 0
            best = cpu = float("inf")
            for _ in range(3):
                start, start_cpu = time.perf_counter(), time.process_time()
                for p in packages:
                    matcher.match(p)
                best = min(best, time.perf_counter() - start)
                cpu = min(cpu, time.process_time() - start_cpu)
            cand = matcher.stats.candidates // 3
            print(
                f"  warm (candidates and version keys cached): {best:.3f} s wall, {cand / best:,.0f} pairs/s; "
                f"{cpu:.3f} s CPU, {cand / cpu:,.0f} pairs/CPU-s; {len(packages) / best:,.0f} packages/s"
            )
        store.close()
    print("version comparisons (cached keys):")
    version_comparisons()
    return 0


if __name__ == "__main__":
    sys.exit(main())
