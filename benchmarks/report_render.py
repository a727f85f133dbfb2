"""Time and peak memory of each report format over N synthetic findings (default 10,000).

    python benchmarks/report_render.py [N] [PACKAGES]

Synthetic findings spread over every duty of the catalog, all severities and statuses, with evidence
and remediation text of realistic length, on an image scan with PACKAGES packages (default 2,000, over
3 layers: the HTML inventory and the SBOMs); rendering only (no scan), the roll-up included. Issue #19's
targets: every format under 2 s of CPU, the HTML file under 10 MB.
"""

from __future__ import annotations

import sys
import time
import tracemalloc
from datetime import UTC, datetime

from shareguard.catalog import Catalog, load_catalog
from shareguard.core.coverage import Coverage
from shareguard.core.facts import FactStore, ImageIdentity, Package
from shareguard.core.finding import Finding, Remediation, Status
from shareguard.core.resource import Location, Resource
from shareguard.core.result import ScanResult
from shareguard.core.severity import Severity
from shareguard.report.cyclonedx import CycloneDxReporter
from shareguard.report.html import HtmlReporter
from shareguard.report.json_report import JsonReporter
from shareguard.report.options import ReportOptions
from shareguard.report.sarif import SarifReporter
from shareguard.report.spdx import SpdxReporter
from shareguard.report.table import TableReporter


def synthetic(n: int, packages: int = 2_000) -> ScanResult:
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
    facts = FactStore()
    layers = tuple(f"sha256:{i:064x}" for i in range(3))
    facts.add(ImageIdentity(reference="bench/image:1", digest="sha256:" + "f" * 64, layers=layers))
    for i in range(packages):
        eco, origin = ("Debian", "os") if i % 3 else ("PyPI", "pip")
        facts.add(
            Package(
                name=f"pkg{i}",
                version=f"1.{i % 50}.{i % 7}",
                ecosystem=eco,
                path=f"meta/{i}",
                layer=layers[i % 3],
                origin=origin,
            )
        )
    return ScanResult("image", "bench", now, now, findings, facts, Coverage())


class TerminalTable:
    """The table as a terminal gets it (colour, 120 columns)."""

    name = "table (terminal)"

    def render(self, result: ScanResult, catalog: Catalog) -> str:
        return TableReporter().render_terminal(result, catalog, 120)


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 10_000
    packages = int(sys.argv[2]) if len(sys.argv) > 2 else 2_000
    result, catalog = synthetic(n, packages), load_catalog()
    print(f"{n} findings, {packages} packages")
    print("| format | CPU time | peak Python allocations | output size |")
    print("|---|---|---|---|")
    reporters = (
        TableReporter(),
        TerminalTable(),
        JsonReporter(),
        JsonReporter(ReportOptions(list_packages=True)),
        SarifReporter(),
        HtmlReporter(),
        CycloneDxReporter(),
        SpdxReporter(),
    )
    for reporter in reporters:
        t0 = time.process_time()  # CPU time: wall time on a shared machine says little
        out = reporter.render(result, catalog)
        elapsed = time.process_time() - t0
        tracemalloc.start()  # a second, traced run: tracemalloc slows rendering several-fold
        reporter.render(result, catalog)
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        name = reporter.name + (
            " --list-packages" if getattr(getattr(reporter, "options", None), "list_packages", False) else ""
        )
        size = len(out.encode()) / 2**20
        verdict = "" if elapsed < 2.0 else " (over 2 s)"
        if reporter.name == "html" and size >= 10:
            verdict += " (over 10 MB)"
        print(f"| {name} | {elapsed:.2f} s{verdict} | {peak / 2**20:.0f} MiB | {size:.1f} MiB |")


if __name__ == "__main__":
    main()
