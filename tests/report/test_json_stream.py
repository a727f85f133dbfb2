"""The JSON report is streamed: written a finding line at a time, never held whole in memory."""

from __future__ import annotations

import io
import json
import tracemalloc
from datetime import UTC, datetime
from pathlib import Path

import pytest

from shareguard.catalog import Catalog
from shareguard.cli.common import OutputOptions, emit
from shareguard.core.coverage import Coverage
from shareguard.core.facts import FactStore
from shareguard.core.finding import Finding, Remediation
from shareguard.core.registry import load_registries
from shareguard.core.resource import Location, Resource
from shareguard.core.result import ScanResult
from shareguard.core.severity import Severity
from shareguard.report import json_report
from shareguard.report.json_report import JsonReporter, render_document, report_dict


def _result(n: int) -> ScanResult:
    now = datetime.now(UTC)
    findings = [
        Finding(
            rule_id="VULN-IMAGE-PACKAGE",
            control_ids=("DLC-C-02",),
            severity=Severity.HIGH,
            title=f"pkg{i} 1.0.{i}: a vulnerability",
            description=f"Description of advisory {i}, long enough to matter. " * 3,
            resource=Resource(type="package", path=f"usr/lib/python3/dist-packages/pkg{i}/METADATA", name=f"pkg{i}"),
            location=Location(line=i),
            evidence=f"pkg{i}==1.0.{i}",
            remediation=Remediation(text=f"Upgrade pkg{i}", fixed_version=f"1.1.{i}", command=f"pip install pkg{i}"),
            analyzer="vuln.osv",
            properties={"vulnerability_id": f"GHSA-{i:06d}"},
        )
        for i in range(n)
    ]
    return ScanResult(
        command="image",
        target="img",
        started=now,
        finished=now,
        findings=findings,
        facts=FactStore(),
        coverage=Coverage(),
    )


class _Recorder(io.StringIO):
    largest = 0

    def write(self, s: str) -> int:
        self.largest = max(self.largest, len(s))
        return super().write(s)


def test_written_piece_by_piece_and_identical_to_render(catalog: Catalog) -> None:
    result = _result(2000)
    out = _Recorder()
    JsonReporter().write(result, catalog, out)
    text = out.getvalue()
    assert text == render_document(report_dict(result, catalog))
    assert len(json.loads(text)["findings"]) == 2000
    assert out.largest < len(text) / 20  # no write holds more than a small part of the report


def test_peak_memory_of_writing_is_a_fraction_of_the_report(
    catalog: Catalog, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """120k findings took ~300 MiB over the findings themselves when rendered whole, ~30 MiB streamed;
    here 6k findings (memos capped lower to match), measured with tracemalloc: the peak stays well under
    the report's own size and the whole rendering's."""
    monkeypatch.setattr(json_report, "_MEMO_ENTRIES", 512)
    result = _result(6000)
    target = tmp_path / "r.json"
    tracemalloc.start()
    try:
        with target.open("w", encoding="utf-8") as fh:
            JsonReporter().write(result, catalog, fh)
        _, streamed = tracemalloc.get_traced_memory()
        tracemalloc.reset_peak()
        whole = render_document(report_dict(result, catalog))  # the whole text, as before
        _, rendered = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    size = target.stat().st_size
    assert size > 4 << 20 and len(whole) == size
    assert streamed < size / 2, (streamed, size)  # bounded memos, the rollup, cached fingerprints: not the text
    assert streamed < rendered / 4, (streamed, rendered)


def test_emit_streams_to_the_output_file(catalog: Catalog, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def whole(self: JsonReporter, result: ScanResult, catalog: Catalog) -> str:
        raise AssertionError("the whole report was rendered in memory")

    monkeypatch.setattr(JsonReporter, "render", whole)
    target = tmp_path / "r.json"
    opts = OutputOptions(format="json", output=target, quiet=True)
    emit(_result(10), opts, load_registries(), scan_root=None, catalog=catalog)
    assert len(json.loads(target.read_text())["findings"]) == 10
