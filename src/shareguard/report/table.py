"""`--format table`: the shared-responsibility report for humans, grouped by service and duty.

Laid out here in three fixed columns (status, duty or rule, details) and wrapped with `textwrap`,
then styled with rich: rich's own Table measures every cell and took ~2 ms per row, far too slow
for image scans with thousands of findings.
"""

from __future__ import annotations

import io
import textwrap
from collections.abc import Iterable
from dataclasses import dataclass

from rich.console import Console
from rich.text import Text

from shareguard.catalog.model import Catalog
from shareguard.core.finding import Finding, Status
from shareguard.core.result import ScanResult
from shareguard.core.severity import Severity
from shareguard.core.text import printable
from shareguard.report.rollup import DutyRow, DutyStatus, Rollup, ServiceRollup, rollup, severity_counts

PLAIN_WIDTH = 120
"""Width of the plain (file / pipe) rendering: wide enough for resource:line and a title."""
STATUS_WIDTH = 16
MAX_ID_WIDTH = 24

SEVERITY_STYLE = {
    Severity.CRITICAL: "bold white on red",
    Severity.HIGH: "bold red",
    Severity.MEDIUM: "yellow",
    Severity.LOW: "cyan",
    Severity.UNKNOWN: "magenta",
    Severity.INFO: "dim",
}
STATUS_STYLE = {
    DutyStatus.FAIL: "bold red",
    DutyStatus.ACCEPTED: "magenta",
    DutyStatus.INCOMPLETE: "bold yellow",
    DutyStatus.PASS: "green",
    DutyStatus.NOT_ASSESSED: "yellow",
}
STATUS_LABEL = {
    DutyStatus.FAIL: "FAIL",
    DutyStatus.ACCEPTED: "ACCEPTED",
    DutyStatus.INCOMPLETE: "INCOMPLETE",
    DutyStatus.PASS: "PASS",
    DutyStatus.NOT_ASSESSED: "NOT ASSESSED",
}


def where(f: Finding) -> str:
    """`path:line`, or the path with the most telling part of the location (member, layer, field, record)."""
    loc = f.location
    text = f.resource.path
    if loc.member:
        text += f"!{loc.member}"
    if loc.line is not None:
        text += f":{loc.line}"
    elif loc.field_path:
        text += f" ({loc.field_path})"
    elif loc.record:
        text += f" (record {loc.record})"
    if loc.layer_digest:
        text += f" [layer {loc.layer_digest.split(':')[-1][:12]}]"
    return printable(text)


@dataclass(frozen=True)
class Part:
    """One logical line of the details column: a styled label, then text (wrapped together)."""

    label: str
    text: str
    label_style: str = ""
    style: str = ""


@dataclass(frozen=True)
class Row:
    status: str
    status_style: str
    ident: str
    parts: tuple[Part, ...]


class _Segments:
    """(text, style) pieces: joined as plain text for files, turned into a rich Text for terminals."""

    def __init__(self) -> None:
        self.items: list[tuple[str, str]] = []

    def append(self, text: str, style: str = "") -> None:
        self.items.append((text, style))

    def plain(self) -> str:
        return "".join(t for t, _ in self.items)

    def rich(self) -> Text:
        out = Text()
        for t, style in self.items:
            out.append(t, style=style or None)
        return out


class Layout:
    """Writes rows of three columns, wrapping each column to its width."""

    def __init__(self, width: int) -> None:
        self.width = width
        self.out = _Segments()

    def line(self, text: str = "", style: str = "") -> None:
        self.out.append(printable(text)[: self.width], style=style)
        self.out.append("\n")

    def rule(self) -> None:
        self.line("─" * self.width, "dim")

    def table(self, headers: tuple[str, str, str], rows: Iterable[Row], ids: Iterable[str]) -> None:
        id_w = min(max([len(headers[1]), *(len(i) for i in ids)]) + 2, MAX_ID_WIDTH)
        detail_w = max(self.width - STATUS_WIDTH - id_w, 20)
        self.line(headers[0].ljust(STATUS_WIDTH) + headers[1].ljust(id_w) + headers[2], "bold")
        self.rule()
        for row in rows:
            self._row(row, id_w, detail_w)

    def _row(self, row: Row, id_w: int, detail_w: int) -> None:
        status = _wrap(row.status, STATUS_WIDTH - 1)
        ident = _wrap(row.ident, id_w - 1)
        details: list[tuple[str, Part, bool]] = []
        for part in row.parts:
            for i, chunk in enumerate(_wrap(part.label + part.text, detail_w)):
                details.append((chunk, part, i == 0))
        for n in range(max(len(status), len(ident), len(details))):
            s = status[n] if n < len(status) else ""
            self.out.append(s.ljust(STATUS_WIDTH), style=row.status_style if s.strip() else "")
            self.out.append((ident[n] if n < len(ident) else "").ljust(id_w))
            if n < len(details):
                chunk, part, first = details[n]
                if first and part.label and chunk.startswith(part.label.strip()):
                    cut = len(part.label.rstrip())
                    self.out.append(chunk[:cut], style=part.label_style)
                    self.out.append(chunk[cut:], style=part.style)
                else:
                    self.out.append(chunk, style=part.style)
            self.out.append("\n")


def _wrap(text: str, width: int) -> list[str]:
    """`text` wrapped to `width`; its own newlines start new lines, every other control character is shown
    escaped (user content never drives the terminal: `core.text.printable`)."""
    lines: list[str] = []
    for para in text.split("\n"):
        lines += textwrap.wrap(
            printable(para), width, break_long_words=True, break_on_hyphens=False, replace_whitespace=True
        ) or [""]
    return lines


def _finding_parts(f: Finding) -> tuple[Part, ...]:
    parts = [Part(where(f), "  " + printable(f.title), label_style="bold")]
    if f.evidence:
        parts.append(Part("evidence: ", printable(f.evidence), label_style="dim"))
    if f.status is Status.WAIVED:
        parts.append(Part("waived: ", printable(f.waiver or ""), label_style="dim", style="dim"))
        return tuple(parts)
    rem = f.remediation
    fix = rem.text + (f" (fixed in {rem.fixed_version})" if rem.fixed_version else "")
    parts.append(Part("fix: ", fix, label_style="green"))
    if rem.command:
        parts.append(Part("$ ", printable(rem.command), label_style="green"))
    return tuple(parts)


def _finding_row(f: Finding, ident: str | None = None) -> Row:
    if f.status is Status.WAIVED:
        return Row(f"  {f.severity.value.upper()} (waived)", "dim", ident or f.rule_id, _finding_parts(f))
    return Row("  " + f.severity.value.upper(), SEVERITY_STYLE[f.severity], ident or f.rule_id, _finding_parts(f))


def _duty_rows(d: DutyRow) -> Iterable[Row]:
    # What the verdict stands on ("12 resources, 5 rules") or why there is none.
    parts = (Part("", d.control.title), Part("", d.summary(), style="dim"))
    yield Row(STATUS_LABEL[d.status], STATUS_STYLE[d.status], d.control.id, parts)
    for f in d.findings:
        if f.status is not Status.PASS:
            yield _finding_row(f)


def _service(layout: Layout, s: ServiceRollup) -> None:
    svc = s.service
    layout.out.append(svc.name, style="bold")
    layout.out.append(f"  ({svc.service}, {svc.cloud})\n", style="dim")
    rows = [row for d in s.customer for row in _duty_rows(d)]
    provider = s.provider
    if provider:
        ids = ", ".join(d.control.id for d in provider)
        n = len(provider)
        rows.append(
            Row(
                "provider",
                "dim",
                f"{n} dut{'ies' if n != 1 else 'y'}",
                (Part("", f"{ids}: the provider's half (not assessed by shareguard)", style="dim"),),
            )
        )
    layout.table(("Status", "Duty / rule", "Duty title / finding"), rows, [r.ident for r in rows])


def _unmapped(layout: Layout, roll: Rollup) -> None:
    findings = [f for f in roll.unmapped if f.status is not Status.PASS]
    if not findings:
        return
    layout.rule()
    layout.line("Findings of duties outside the catalog", "bold")
    rows = [_finding_row(f, f"{f.rule_id} {' '.join(f.control_ids)}") for f in findings]
    layout.table(("Severity", "Rule / duties", "Finding"), rows, [f.rule_id for f in findings])


def _issues(layout: Layout, result: ScanResult) -> None:
    if not result.issues and not result.expired_waivers:
        return
    layout.rule()
    layout.line("Issues", "bold")
    rows: list[Row] = []
    for i in result.issues:
        msg = f"{i.message} ({i.analyzer})" if i.analyzer else i.message
        part = Part(printable(i.path), "  " + printable(msg), "bold")
        rows.append(Row(i.kind, "red" if i.kind == "error" else "yellow", "", (part,)))
    for w in result.expired_waivers:
        where_ = printable(f"{w.source}:{w.line or '?'}")
        text = printable(f"  expired on {w.expires}, no longer applies ({w.matched} matching finding(s)): {w.reason}")
        rows.append(Row("expired waiver", "yellow", "", (Part(where_, text, "bold"),)))
    layout.table(("Kind", "", "Where and what"), rows, [])


def summary_line(result: ScanResult, roll: Rollup) -> str:
    shown_findings = result.shown()
    sev = severity_counts(shown_findings)
    failing = sum(sev.values())
    parts = ", ".join(f"{n} {s}" for s, n in sev.items() if n)
    waived = sum(1 for f in shown_findings if f.status is Status.WAIVED)
    duties = roll.customer_status_counts()
    text = f"{failing} failing finding{'s' if failing != 1 else ''}"
    if parts:
        text += f" ({parts})"
    text += f", {waived} waived · customer duties: " + ", ".join(
        f"{duties[st.value]} {st.value.replace('_', ' ')}" for st in DutyStatus
    )
    errors = sum(1 for i in result.issues if i.kind == "error")
    if errors:
        text += f" · {errors} input{'s' if errors != 1 else ''} could not be scanned"
    shown = result.metadata.get("severity_filter")
    if shown:
        hidden = len(result.findings) - len(shown_findings)
        text += f" · severities shown: {shown} ({hidden} other finding{'s' if hidden != 1 else ''} not listed)"
    return text


def scanned_lines(result: ScanResult) -> list[str]:
    """One line per capability: how many inputs its analyzers evaluated and skipped; unchecked packages."""
    by_capability: dict[str, list[int]] = {}
    for name, log in result.coverage.inputs.items():
        counts = by_capability.setdefault(name.split(".", 1)[0], [0, 0])
        counts[0] += log.evaluated
        counts[1] += log.skipped_count
    lines = [
        f"{cap}: {ev} input{'s' if ev != 1 else ''} evaluated" + (f", {sk} skipped" if sk else "")
        for cap, (ev, sk) in sorted(by_capability.items())
    ]
    for note in result.metadata.get("unchecked_packages", []):
        label = f"{note['ecosystem']} {note['release']}".strip()
        lines.append(f"vuln: {note['packages']} {label} package(s) not checked (no advisories): {note['fix']}")
    return lines


def layout_report(result: ScanResult, catalog: Catalog, width: int) -> _Segments:
    roll = rollup(result, catalog)
    layout = Layout(width)
    layout.line(f"shareguard {result.command} {result.target}", "bold")
    for s in roll.services:
        layout.rule()
        _service(layout, s)
    _unmapped(layout, roll)
    _issues(layout, result)
    layout.rule()
    for line in scanned_lines(result):
        for chunk in _wrap("Scanned: " + line, width):
            layout.line(chunk)
    for chunk in _wrap("Summary: " + summary_line(result, roll), width):
        layout.line(chunk, "bold")
    return layout.out


def _render(result: ScanResult, catalog: Catalog, *, width: int, color: bool) -> str:
    segments = layout_report(result, catalog, width)
    if not color:
        text = segments.plain()
    else:
        buf = io.StringIO()
        console = Console(file=buf, width=width, force_terminal=True, highlight=False, emoji=False, markup=False)
        # Already laid out to the width: soft_wrap stops rich from wrapping it again.
        console.print(segments.rich(), soft_wrap=True, end="")
        text = buf.getvalue()
    # Padding to column widths leaves trailing blanks: they only bloat files and diffs.
    return "\n".join(line.rstrip() for line in text.splitlines()) + "\n"


class TableReporter:
    name = "table"
    commands: frozenset[str] | None = None

    def render(self, result: ScanResult, catalog: Catalog) -> str:
        """Plain text (no escape codes): for files, pipes and tests."""
        return _render(result, catalog, width=PLAIN_WIDTH, color=False)

    def render_terminal(self, result: ScanResult, catalog: Catalog, width: int) -> str:
        return _render(result, catalog, width=max(width, 80), color=True)
