"""Time and peak memory of each report format over N synthetic findings (default 10,000).

    python benchmarks/report_render.py [N]

Synthetic findings spread over every duty of the catalog, all severities and statuses, with evidence
and remediation text of realistic length; rendering only (no scan), the roll-up included.
"""

from __future__ import annotations

import sys
import time
import tracemalloc
from datetime import UTC, datetime

from shareguard.catalog import load_catalog
from shareguard.core.facts import FactStore
from shareguard.core.finding import Finding, Remediation, Status
from shareguard.core.resource import Location, Resource
from shareguard.core.result import ScanResult
from shareguard.core.severity import Severity
from shareguard.report.html import HtmlReporter
from shareguard.report.json_report import JsonReporter
from shareguard.report.sarif import SarifReporter
from shareguard.report.table import TableReporter


def synthetic(n: int) -> ScanResult:
    catalog = load_catalog()
    controls = [c.id for c in catalog.controls.values() if c.owner.value == "customer"]
    sev = list(Severity)
    statuses = [Status.FAIL] * 8 + [Status.WAIVED, Status.PASS]
    findings = [
        Finding(
            rule_id=f"RULE-{i % 97:03d}",
            control_ids=(controls[i % len(controls)], controls[(i * 7) % len(controls)]),
            severity=sev[i % len(sev)],
            title=f"Finding number {i}: something is misconfigured in this resource",
            resource=Resource(type="file", path=f"dir{i % 50}/file{i}.yaml"),
            location=Location(line=i % 400 + 1, field_path=f"spec.template.spec.containers[{i % 3}].image"),
            evidence="AKIA" + "*" * 16 + f" value {i}",
            remediation=Remediation(text="Do the documented thing to fix it. " * 3, command=f"fix --id {i}"),
            status=statuses[i % len(statuses)],
        )
        for i in range(n)
    ]
    now = datetime.now(UTC)
    return ScanResult("audit", "bench", now, now, findings, FactStore(), set(controls[:10]))


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 10_000
    result, catalog = synthetic(n), load_catalog()
    print(f"{n} findings")
    print("| format | CPU time | peak Python allocations | output size |")
    print("|---|---|---|---|")
    for reporter in (TableReporter(), JsonReporter(), SarifReporter(), HtmlReporter()):
        t0 = time.process_time()  # CPU time: wall time on a shared machine says little
        out = reporter.render(result, catalog)
        elapsed = time.process_time() - t0
        tracemalloc.start()  # a second, traced run: tracemalloc slows rendering several-fold
        reporter.render(result, catalog)
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        print(f"| {reporter.name} | {elapsed:.2f} s | {peak / 2**20:.0f} MiB | {len(out.encode()) / 2**20:.1f} MiB |")


if __name__ == "__main__":
    main()
