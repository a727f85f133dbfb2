"""Matching speed: packages × candidate advisories per second, and version comparisons per second.

Imports the real PyPA advisory set (shared data) into a temporary database, builds an inventory of
packages with versions drawn from the advisories' own version lists (so most candidates are real
near-misses or hits, the expensive case), then times the matcher over it: warm (candidates loaded,
version keys cached, as for every package after the first in a scan) and cold (fresh matcher and
empty version-key cache, as for a one-off scan).

    python benchmarks/vuln_match.py [PATH/TO/pypa-advisory-database/vulns] [--packages N]
"""

from __future__ import annotations

import argparse
import random
import sys
import tempfile
import time
from pathlib import Path

from shareguard.core.facts import Package
from shareguard.vuln.importer import import_path
from shareguard.vuln.matcher import Matcher
from shareguard.vuln.store import VulnStore
from shareguard.vuln.versions import _cached_key

DEFAULT = Path(__file__).resolve().parents[2] / "shared" / "data" / "osv" / "pypa-advisory-database" / "vulns"


def inventory(store: VulnStore, count: int, seed: int = 7) -> list[Package]:
    rng = random.Random(seed)
    rows = store._db.execute("SELECT DISTINCT name, versions FROM affected WHERE ecosystem='PyPI'").fetchall()
    import json

    pool: list[tuple[str, list[str]]] = [(name, json.loads(vs) or ["0.0.1"]) for name, vs in rows]
    out = []
    for i in range(count):
        name, versions = pool[i % len(pool)]
        version = rng.choice(versions + ["99.0.0", "0.0.1"])
        out.append(Package(name=name, version=version, ecosystem="PyPI", path=f"site-packages/{name}-{i}.dist-info", origin="pip"))
    return out


def run(store: VulnStore, packages: list[Package]) -> tuple[float, int, int, int]:
    matcher = Matcher(store)
    start = time.perf_counter()
    hits = sum(len(matcher.match(p)) for p in packages)
    elapsed = time.perf_counter() - start
    return elapsed, matcher.stats.candidates, matcher.stats.comparisons, hits


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("vulns", nargs="?", type=Path, default=DEFAULT)
    parser.add_argument("--packages", type=int, default=20_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        store = VulnStore(Path(tmp) / "vuln.sqlite", create=True)
        report = import_path(store, args.vulns)
        packages = inventory(store, args.packages)
        print(f"advisories: {report.imported}; packages: {len(packages)} over {len({p.name for p in packages})} names")

        _cached_key.cache_clear()
        cold, cand, comps, hits = run(store, packages)
        print(
            f"cold (empty caches, includes SQLite fetch + parsing): {cold:.3f} s, {cand / cold:,.0f} package×advisory "
            f"evaluations/s, {comps / cold:,.0f} version comparisons/s ({cand:,} evaluations, {comps:,} comparisons, {hits:,} matches)"
        )
        matcher = Matcher(store)
        for p in packages:  # warm the candidate and key caches
            matcher.match(p)
        matcher.stats.candidates = matcher.stats.comparisons = 0
        best = float("inf")
        for _ in range(3):
            start = time.perf_counter()
            for p in packages:
                matcher.match(p)
            best = min(best, time.perf_counter() - start)
        cand, comps = matcher.stats.candidates // 3, matcher.stats.comparisons // 3
        print(
            f"warm (candidates and version keys cached): {best:.3f} s, {cand / best:,.0f} package×advisory "
            f"evaluations/s, {comps / best:,.0f} version comparisons/s"
        )
        store.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
