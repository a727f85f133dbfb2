"""The table report: grouped by service and duty, plain without a terminal, user content printed literally."""

from __future__ import annotations

import re

from shareguard.catalog import Catalog
from shareguard.core.result import ScanResult
from shareguard.report.table import PLAIN_WIDTH, TableReporter

ANSI = re.compile(r"\x1b\[")


def test_grouped_by_service_then_duty(result: ScanResult, catalog: Catalog) -> None:
    text = TableReporter().render(result, catalog)
    positions = [text.index(svc.name) for svc in catalog.services.values()]
    assert positions == sorted(positions), "services in catalog order"
    lines = text.splitlines()
    fail_line = next(i for i, line in enumerate(lines) if "DATAFLOW-C-04" in line)
    assert lines[fail_line].startswith("FAIL")
    # Its finding follows beneath: severity, rule, resource and location, title, fix.
    below = "\n".join(lines[fail_line + 1 : fail_line + 9])
    assert "MEDIUM" in below and "DF-EXP-001" in below
    assert "dataflow/job.json (environment.experiments[0])" in below
    assert "fix: Remove the experiment" in below
    assert re.search(r"^NOT ASSESSED\s+DATAFLOW-C-05", text, re.M)
    assert re.search(r"^PASS\s+DATAFLOW-C-01", text, re.M)
    assert "DATAFLOW-P-01, DATAFLOW-P-02, DATAFLOW-P-03, DATAFLOW-P-04: the provider's half" in text


def test_details_issues_expired_waivers_and_summary(result: ScanResult, catalog: Catalog) -> None:
    text = TableReporter().render(result, catalog)
    assert "terraform/main.tf:50" in text
    assert "fixed in 2.6.0" in text and "$ pip install 'torch>=2.6.0'" in text
    assert "waived: synthetic fixture data" in text
    assert "ACME-C-01" in text  # a plugin's own duty is still shown
    assert "models/huge.pt" in text and "expired on 2026-03-31" in text
    summary = " ".join(text[text.index("Summary: ") :].split())
    assert summary.startswith("Summary: 4 failing findings (1 critical, 1 high, 1 medium, 1 info), 1 waived")
    assert "1 input could not be scanned" in summary


def test_plain_output_has_no_escape_codes_and_fits_the_width(result: ScanResult, catalog: Catalog) -> None:
    text = TableReporter().render(result, catalog)
    assert not ANSI.search(text)
    assert max(len(line) for line in text.splitlines()) <= PLAIN_WIDTH
    assert all(line == line.rstrip() for line in text.splitlines())


def test_terminal_output_is_coloured(result: ScanResult, catalog: Catalog) -> None:
    assert ANSI.search(TableReporter().render_terminal(result, catalog, 100))


def test_user_content_is_not_rich_markup(result: ScanResult, catalog: Catalog) -> None:
    text = TableReporter().render(result, catalog)
    assert "[bold]markup[/bold]" in text


def test_example_workspace_renders(example_result: ScanResult, catalog: Catalog) -> None:
    text = TableReporter().render(example_result, catalog)
    assert "Summary:" in text
    assert "expired waiver" in text
