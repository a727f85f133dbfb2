"""`shareguard db update` of the full PyPA advisory set (2,661 YAML files): seconds, advisories/s, size.

Runs the same code path as `shareguard db update --from PATH` (seed from the bundled snapshot, then
one import transaction) in a temporary cache directory, and also a re-import over an existing
database (every advisory replaced), as a daily update does.

    python benchmarks/vuln_db_update.py [PATH/TO/pypa-advisory-database]
"""

from __future__ import annotations

import os
import resource
import sys
import tempfile
import time
from pathlib import Path

from shareguard.vuln.importer import import_path
from shareguard.vuln.snapshot import install_snapshot
from shareguard.vuln.store import VulnStore

DEFAULT = Path(__file__).resolve().parents[2] / "shared" / "data" / "osv" / "pypa-advisory-database"


def timed(label: str, fn: object) -> None:
    start, cpu = time.perf_counter(), time.process_time()
    result = fn()  # type: ignore[operator]
    wall, cpu = time.perf_counter() - start, time.process_time() - cpu
    print(f"{label}: {wall:.2f} s wall, {cpu:.2f} s CPU{result}")


def main() -> int:
    src = Path(sys.argv[1]) if len(sys.argv) > 1 else DEFAULT
    print(f"machine: {os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f}")
    with tempfile.TemporaryDirectory() as tmp:
        db = Path(tmp) / "db" / "vuln.sqlite"
        timed("seed from bundled snapshot", lambda: (install_snapshot(db), "")[1])

        def full() -> str:
            with VulnStore(db) as store:
                report = import_path(store, src)
            return f", {report.imported} advisories imported, {report.withdrawn} withdrawn, {len(report.rejected)} rejected"

        timed("db update --from pypa-advisory-database (first)", full)
        timed("db update --from pypa-advisory-database (again: every advisory replaced)", full)
        print(f"database size: {db.stat().st_size / 1e6:.1f} MB")
    print(f"peak RSS: {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
