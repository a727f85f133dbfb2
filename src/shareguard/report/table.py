"""`--format table`: the shared-responsibility report for humans, grouped by service and duty."""

from __future__ import annotations

import io

from rich import box
from rich.console import Console, Group
from rich.rule import Rule
from rich.table import Table
from rich.text import Text

from shareguard.catalog.model import Catalog
from shareguard.core.finding import Finding, Status
from shareguard.core.result import ScanResult
from shareguard.core.severity import Severity
from shareguard.report.rollup import DutyRow, DutyStatus, Rollup, ServiceRollup, rollup, severity_counts

PLAIN_WIDTH = 120
"""Width of the plain (file / pipe) rendering: wide enough for resource:line and a title."""

SEVERITY_STYLE = {
    Severity.CRITICAL: "bold white on red",
    Severity.HIGH: "bold red",
    Severity.MEDIUM: "yellow",
    Severity.LOW: "cyan",
    Severity.INFO: "dim",
}
STATUS_STYLE = {DutyStatus.FAIL: "bold red", DutyStatus.PASS: "green", DutyStatus.NOT_ASSESSED: "yellow"}
STATUS_LABEL = {DutyStatus.FAIL: "FAIL", DutyStatus.PASS: "PASS", DutyStatus.NOT_ASSESSED: "NOT ASSESSED"}


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
    return text


def _finding_detail(f: Finding) -> Text:
    out = Text()
    out.append(where(f), style="bold")
    out.append("  " + f.title)
    if f.evidence:
        out.append("\nevidence: ", style="dim")
        out.append(f.evidence)
    if f.status is Status.WAIVED:
        out.append("\nwaived: ", style="dim")
        out.append(f.waiver or "")
        return out
    rem = f.remediation
    out.append("\nfix: ", style="green")
    out.append(rem.text)
    if rem.fixed_version:
        out.append(f" (fixed in {rem.fixed_version})")
    if rem.command:
        out.append("\n$ ", style="green")
        out.append(rem.command)
    return out


def _severity_cell(f: Finding) -> Text:
    if f.status is Status.WAIVED:
        return Text(f"  {f.severity.value.upper()} (waived)", style="dim")
    return Text("  " + f.severity.value.upper(), style=SEVERITY_STYLE[f.severity])


def _duty_row(table: Table, d: DutyRow) -> None:
    counts = ", ".join(f"{n} {s}" for s, n in d.counts.items() if n)
    title = Text(d.control.title)
    if counts:
        title.append(f"  [{counts}]", style="dim")
    table.add_row(Text(STATUS_LABEL[d.status], style=STATUS_STYLE[d.status]), Text(d.control.id), title)
    for f in d.findings:
        if f.status is Status.PASS:
            continue
        table.add_row(_severity_cell(f), Text(f.rule_id), _finding_detail(f))


def _service_table(s: ServiceRollup) -> Group:
    svc = s.service
    table = Table(box=box.SIMPLE_HEAD, show_edge=False, expand=True, pad_edge=False)
    table.add_column("Status", no_wrap=True, min_width=12)
    table.add_column("Duty / rule", no_wrap=True)
    table.add_column("Duty title / finding", ratio=1, overflow="fold")
    for d in s.customer:
        _duty_row(table, d)
    provider = s.provider
    if provider:
        ids = ", ".join(d.control.id for d in provider)
        table.add_row(
            Text("provider", style="dim"),
            Text(f"{len(provider)} dut{'ies' if len(provider) != 1 else 'y'}", style="dim"),
            Text(f"{ids}: the provider's half (not assessed by shareguard)", style="dim"),
        )
    heading = Text()
    heading.append(svc.name, style="bold")
    heading.append(f"  ({svc.service}, {svc.cloud})", style="dim")
    return Group(heading, table)


def _unmapped(roll: Rollup) -> Table | None:
    if not roll.unmapped:
        return None
    table = Table(box=box.SIMPLE_HEAD, show_edge=False, expand=True, pad_edge=False, title="Findings of other duties")
    table.add_column("Severity", no_wrap=True, min_width=12)
    table.add_column("Rule / duties", no_wrap=True)
    table.add_column("Finding", ratio=1, overflow="fold")
    for f in roll.unmapped:
        if f.status is not Status.PASS:
            table.add_row(_severity_cell(f), Text(f"{f.rule_id}\n{', '.join(f.control_ids)}"), _finding_detail(f))
    return table


def summary_line(result: ScanResult, roll: Rollup) -> str:
    sev = severity_counts(result.findings)
    failing = sum(sev.values())
    parts = ", ".join(f"{n} {s}" for s, n in sev.items() if n)
    waived = sum(1 for f in result.findings if f.status is Status.WAIVED)
    duties = roll.customer_status_counts()
    text = f"{failing} failing finding{'s' if failing != 1 else ''}"
    if parts:
        text += f" ({parts})"
    text += f", {waived} waived · customer duties: {duties['fail']} fail, {duties['pass']} pass, "
    text += f"{duties['not_assessed']} not assessed"
    errors = sum(1 for i in result.issues if i.kind == "error")
    if errors:
        text += f" · {errors} input{'s' if errors != 1 else ''} could not be scanned"
    shown = result.metadata.get("severity_filter")
    if shown:
        text += f" · severities shown: {shown}"
    return text


def _issues(result: ScanResult) -> Table | None:
    if not result.issues and not result.expired_waivers:
        return None
    table = Table(box=box.SIMPLE_HEAD, show_edge=False, expand=True, pad_edge=False, title="Issues")
    table.add_column("Kind", no_wrap=True, min_width=12)
    table.add_column("Where", overflow="fold")
    table.add_column("Message", ratio=1, overflow="fold")
    for i in result.issues:
        style = "red" if i.kind == "error" else "yellow"
        msg = f"{i.message} ({i.analyzer})" if i.analyzer else i.message
        table.add_row(Text(i.kind, style=style), Text(i.path), Text(msg))
    for w in result.expired_waivers:
        table.add_row(
            Text("expired waiver", style="yellow"),
            Text(f"{w.source}:{w.line or '?'}"),
            Text(f"expired on {w.expires}, no longer applies ({w.matched} matching finding(s)): {w.reason}"),
        )
    return table


def render_table(result: ScanResult, catalog: Catalog, console: Console) -> None:
    roll = rollup(result, catalog)
    console.print(Text(f"shareguard {result.command} {result.target}", style="bold"))
    for s in roll.services:
        console.print(Rule(style="dim"))
        console.print(_service_table(s))
    for extra in (_unmapped(roll), _issues(result)):
        if extra is not None:
            console.print(Rule(style="dim"))
            console.print(extra)
    console.print(Rule(style="dim"))
    console.print(Text("Summary: " + summary_line(result, roll), style="bold"))


def _render(result: ScanResult, catalog: Catalog, *, width: int, color: bool) -> str:
    buf = io.StringIO()
    console = Console(
        file=buf,
        width=width,
        force_terminal=color,
        no_color=not color,
        color_system="auto" if color else None,
        highlight=False,
        emoji=False,
        markup=False,
        legacy_windows=False,
    )
    render_table(result, catalog, console)
    # rich pads cells to the full width; trailing blanks only bloat files and diffs.
    return "\n".join(line.rstrip() for line in buf.getvalue().splitlines()) + "\n"


class TableReporter:
    name = "table"
    commands: frozenset[str] | None = None

    def render(self, result: ScanResult, catalog: Catalog) -> str:
        """Plain text (no escape codes): for files, pipes and tests."""
        return _render(result, catalog, width=PLAIN_WIDTH, color=False)

    def render_terminal(self, result: ScanResult, catalog: Catalog, width: int) -> str:
        return _render(result, catalog, width=max(width, 80), color=True)
