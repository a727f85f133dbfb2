"""`--format table`: the shared-responsibility report for people at a terminal.

The summary comes first (duties per verdict, findings per severity, what was scanned), then the duties
by verdict, failing duties named and passing or not-assessed ones collapsed (one line per service),
then every failing finding once. Findings are grouped (by the duty of highest severity, by resource or
by rule) and, inside a group, the findings of one rule share one entry: its title, then each
`resource:line` with what is particular to it, the other duties it breaks, and each distinct fix command
on its own line. A command is never broken inside a token; a line runs past the width rather than split
a word (a path, an id) that does not fit.

Laid out here with `textwrap` and styled with rich only on a terminal: rich's own Table measured every
cell and took ~2 ms per row, far too slow for image scans with thousands of findings.
"""

from __future__ import annotations

import io
import textwrap
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from rich.console import Console
from rich.text import Text

from shareguard.catalog.model import Catalog
from shareguard.core.finding import Finding, Status
from shareguard.core.result import ScanResult
from shareguard.core.severity import Severity
from shareguard.core.text import printable, shorten
from shareguard.report.grouping import SEVERITY_ORDER, by_duty
from shareguard.report.options import GroupBy, ReportOptions
from shareguard.report.rollup import DutyRow, DutyStatus, Rollup, rollup, severity_counts, sort_findings
from shareguard.report.summary import hidden_note, plural, scanned_lines, where

PLAIN_WIDTH = 120
"""Width of the plain (file / pipe) rendering."""
MIN_WIDTH = 60
INDENT = "      "
"""Continuation lines of an entry (the items, the fix, the commands)."""
DETAIL_WIDTH = 90
"""What is particular to one finding (its title past the rule's) is shortened to this, at a word boundary."""
HEAD_MIN = 24
DETAIL_KEEP = 40
"""On a one-place entry's line the rule's title is shortened (not below HEAD_MIN) before the detail is
shortened below DETAIL_KEEP characters: the detail says what is wrong at that place."""

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
_SEVERITY_ORDER = SEVERITY_ORDER


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


def _wrap(text: str, width: int, indent: str = "", first: str = "") -> list[str]:
    """`text` (user content made printable) wrapped to `width`, never breaking a word or a path: a word
    longer than the line runs past it."""
    return textwrap.wrap(
        printable(text),
        width,
        initial_indent=first,
        subsequent_indent=indent,
        break_long_words=False,
        break_on_hyphens=False,
    ) or [first.rstrip()]


class Layout:
    def __init__(self, width: int) -> None:
        self.width = width
        self.out = _Segments()

    def line(self, text: str = "", style: str = "") -> None:
        self.out.append(text, style=style)
        self.out.append("\n")

    def heading(self, text: str) -> None:
        rule = "─" * max(self.width - len(text) - 4, 3)
        self.out.append("── ", "dim")
        self.out.append(text, "bold")
        self.out.append(" " + rule + "\n", "dim")

    def labelled(self, label: str, text: str, label_style: str = "", style: str = "", *, pad: int = 0) -> None:
        """`label` then `text` wrapped beside it, continuation lines under the text."""
        first = label.ljust(pad) if pad else label
        lines = _wrap(text, self.width, " " * len(first), first)
        head = lines[0]
        self.out.append(head[: len(first)], label_style)
        self.out.append(head[len(first) :] + "\n", style)
        for rest in lines[1:]:
            self.out.append(rest + "\n", style)

    def command(self, command: str) -> None:
        """A fix command on its own line, whole: copy-paste must get exactly it, however long."""
        self.out.append(INDENT)
        self.out.append("$ ", "green")
        self.out.append(printable(command) + "\n", "green")


# --- the summary -------------------------------------------------------------------------------


def _summary(layout: Layout, result: ScanResult, roll: Rollup) -> None:
    duties = roll.customer_status_counts()
    total = sum(duties.values())
    provider = sum(len(s.provider) for s in roll.services)
    text = f"{total} customer duties: " + ", ".join(
        f"{duties[st.value]} {st.value.replace('_', ' ')}" for st in DutyStatus
    )
    text += f" · {provider} provider duties"
    layout.labelled("Duties", text, "bold", pad=10)
    shown = result.shown()
    sev = severity_counts(shown)
    failing = sum(sev.values())
    waived = sum(1 for f in shown if f.status is Status.WAIVED)
    text = plural(failing, "failing finding")
    if failing:
        text += ": " + ", ".join(f"{n} {s}" for s, n in sev.items() if n)
    text += f" · {waived} waived"
    shown_filter = result.metadata.get("severity_filter")
    if shown_filter:
        hidden = len(result.findings) - len(shown)
        text += f" · severities shown: {shown_filter} ({plural(hidden, 'other finding')} not listed)"
    text += hidden_note(result)
    layout.labelled("Findings", text, "bold", pad=10)
    errors = sum(1 for i in result.issues if i.kind == "error")
    warnings = len(result.issues) - errors
    if result.issues or result.expired_waivers:
        parts = []
        if errors:
            parts.append(f"{plural(errors, 'input')} could not be scanned")
        if warnings:
            parts.append(plural(warnings, "warning"))
        if result.expired_waivers:
            parts.append(plural(len(result.expired_waivers), "expired waiver"))
        layout.labelled("Issues", " · ".join(parts) + " (listed at the end)", "bold", pad=10)
    # One part per capability, a line broken only between parts (`posture: 16 inputs evaluated` stays whole).
    lines: list[str] = []
    for part in scanned_lines(result) or ["nothing any analyzer could evaluate"]:
        if lines and len(lines[-1]) + 3 + len(part) <= layout.width - 10:
            lines[-1] += " · " + part
        else:
            lines.append(part)
    for i, line in enumerate(lines):
        layout.labelled("Scanned" if i == 0 else "", line, "bold", pad=10)


# --- duties by verdict ------------------------------------------------------------------------


def _ids(rows: Iterable[DutyRow]) -> str:
    return ", ".join(d.control.id for d in rows)


def _duties(layout: Layout, roll: Rollup, show_all: bool) -> None:
    layout.heading("Customer duties by verdict")
    pad = 14
    by_status: dict[DutyStatus, list[tuple[str, list[DutyRow]]]] = {st: [] for st in DutyStatus}
    for s in roll.services:
        for st in DutyStatus:
            rows = [d for d in s.customer if d.status is st]
            if rows:
                by_status[st].append((s.service.name, rows))
    for st in DutyStatus:
        groups = by_status[st]
        if not groups:
            continue
        label = STATUS_LABEL[st]
        if show_all or st in (DutyStatus.ACCEPTED, DutyStatus.INCOMPLETE):
            # One line per duty, with what the verdict stands on or why there is none.
            for _, rows in groups:
                for d in rows:
                    text = f"{d.control.id}  {d.control.title} — {d.summary()}"
                    layout.labelled(label, text, STATUS_STYLE[st], pad=pad)
        elif st is DutyStatus.FAIL:
            text = f"({sum(len(r) for _, r in groups)}) " + ", ".join(_ids(r) for _, r in groups)
            layout.labelled(label, text, STATUS_STYLE[st], pad=pad)
        elif st is DutyStatus.PASS:
            text = "; ".join(f"{svc}: " + ", ".join(f"{d.control.id} ({d.checked()})" for d in r) for svc, r in groups)
            layout.labelled(label, text, STATUS_STYLE[st], pad=pad)
        else:
            # Not assessed: one line per service (its name without the parenthesis), the duties sharing a
            # reason named together.
            for svc, rows in groups:
                svc = svc.split(" (")[0]
                reasons: dict[str, list[str]] = {}
                for d in rows:
                    reasons.setdefault(d.summary(), []).append(d.control.id)
                text = f"{svc}: " + "; ".join(f"{', '.join(ids)} ({why})" for why, ids in reasons.items())
                layout.labelled(label, text, STATUS_STYLE[st], pad=pad)
    if show_all:
        for s in roll.services:
            if s.provider:
                text = f"{s.service.name}: {_ids(s.provider)} (the provider's half, not assessed by shareguard)"
                layout.labelled("provider", text, "dim", "dim", pad=pad)


# --- findings ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Entry:
    """The findings of one rule (and one status) in one group."""

    rule_id: str
    status: Status
    findings: tuple[Finding, ...]

    @property
    def severity(self) -> Severity:
        return min((f.severity for f in self.findings), key=_SEVERITY_ORDER.__getitem__)


def _rule_title(f: Finding, result: ScanResult) -> str:
    meta = result.rules.get(f.rule_id)
    if meta is not None and f.title.startswith(meta.title):
        return meta.title
    return ""


def _detail(f: Finding, head: str) -> str:
    """What is particular to one finding: its title past the rule's title (the whole title without one)."""
    rest = f.title[len(head) :] if head else f.title
    return " ".join(rest.lstrip(" :—-").split())


def _entries(findings: list[Finding]) -> list[Entry]:
    """Findings (in `sort_findings` order) gathered per rule and status, most severe first."""
    groups: dict[tuple[str, Status], list[Finding]] = {}
    for f in findings:
        groups.setdefault((f.rule_id, f.status), []).append(f)
    entries = [Entry(r, st, tuple(fs)) for (r, st), fs in groups.items()]
    return sorted(entries, key=lambda e: (e.status is not Status.FAIL, _SEVERITY_ORDER[e.severity], e.rule_id))


def _places(findings: list[Finding]) -> str:
    """`a.yaml:25, 56, b.tf:3`: the places of findings, a path said once for its consecutive lines."""
    out: list[str] = []
    last_path = None
    for f in findings:
        place = where(f)
        line = f.location.line
        if line is not None and last_path == f.resource.path and place == printable(f"{f.resource.path}:{line}"):
            out.append(str(line))
        else:
            out.append(place)
        last_path = f.resource.path if line is not None and place.endswith(f":{line}") else None
    return ", ".join(out)


def _items(e: Entry, head: str) -> list[tuple[str, str]]:
    """One item per distinct detail: where its findings are (with the severity where the entry's findings
    differ in it), and the detail."""
    mixed = len({f.severity for f in e.findings}) > 1
    details: dict[tuple[str, Severity | None], list[Finding]] = {}
    for f in e.findings:
        details.setdefault((_detail(f, head), f.severity if mixed else None), []).append(f)
    items = []
    for (detail, sev), fs in details.items():
        places = (f"{sev.value}: " if sev is not None else "") + _places(fs)
        items.append((places + (": " if detail else ""), detail))
    return items


def _fit(text: str, detail: str, room: int) -> str:
    """`text` then `detail`, the detail shortened (at a word boundary) so that both fit in `room` when a
    readable part of it can; otherwise whole (the line wraps)."""
    if not detail:
        return text
    left = room - len(text)
    return text + shorten(detail, left if left >= 24 else DETAIL_WIDTH)


def _entry(layout: Layout, e: Entry, result: ScanResult, shown_duty: str | None, show_all: bool) -> None:
    first = e.findings[0]
    head = _rule_title(first, result) if all(_rule_title(f, result) for f in e.findings) else ""
    items = _items(e, head)
    duties = sorted({cid for f in e.findings for cid in f.control_ids} - {shown_duty or ""})
    tail = f" [{'also ' if shown_duty else ''}{', '.join(duties)}]" if duties else ""
    waived = e.status is Status.WAIVED
    label = f"  {e.severity.value.upper()}{' (waived)' if waived else ''} "
    sev_style = "dim" if waived else SEVERITY_STYLE[e.severity]
    text = f"{e.rule_id}  {head}" if head else e.rule_id
    room = layout.width - len(label) - len(tail)
    if len(items) == 1:
        # One place (or several sharing one detail): on the rule's own line. When it would not fit, the
        # rule's title gives way first (shortened at a word boundary; the places never are), down to
        # HEAD_MIN characters, so that the detail keeps up to DETAIL_KEEP of its own.
        places, detail = items.pop()
        sep = " — " if head else "  "
        want = len(text) + len(sep) + len(places) + len(detail)
        if head and want > room:
            spare = room - (len(e.rule_id) + 2 + len(sep) + len(places) + min(len(detail), DETAIL_KEEP))
            if spare >= HEAD_MIN:
                text = f"{e.rule_id}  {shorten(head, spare)}"
        text = _fit(text + sep + places, detail, room)
    elif not head:
        text += f"  {len(e.findings)} findings"
    lines = _wrap(text + tail, layout.width, INDENT, label)
    layout.out.append(lines[0][: len(label)], sev_style)
    rest = lines[0][len(label) :]
    layout.out.append(rest[: len(e.rule_id)], "bold")
    layout.out.append(rest[len(e.rule_id) :] + "\n")
    for line in lines[1:]:
        layout.line(line)
    for places, detail in items:
        for line in _wrap(_fit(places, detail, layout.width - len(INDENT)), layout.width, INDENT + "  ", INDENT):
            layout.line(line)
    if waived:
        for reason in sorted({f.waiver or "" for f in e.findings}):
            for line in _wrap("waived: " + reason, layout.width, INDENT, INDENT):
                layout.line(line, "dim")
        return
    commands = list(dict.fromkeys(f.remediation.command for f in e.findings if f.remediation.command))
    if show_all:
        for text in dict.fromkeys(f"evidence ({where(f)}): {f.evidence}" for f in e.findings if f.evidence):
            for line in _wrap(text, layout.width, INDENT + "  ", INDENT):
                layout.line(line, "dim")
        fix = first.remediation.text
        for line in _wrap("fix: " + fix, layout.width, INDENT, INDENT):
            layout.line(line, "green")
    for command in commands:
        layout.command(command)


@dataclass(frozen=True)
class Group:
    heading: str
    """The group's first line (a duty with its verdict, a resource); empty: no heading."""
    style: str
    findings: list[Finding]
    duty: str | None = None
    """The duty the group stands for: left out of its findings' `also` lists."""
    row: DutyRow | None = None


def _by_duty(findings: list[Finding], roll: Rollup) -> list[Group]:
    rows = {d.control.id: d for d in roll.duties()}
    groups = []
    for cid, placed in by_duty(findings, roll):
        if cid is None:
            groups.append(Group("Duties outside the catalog (a plugin's own ids)", "bold", placed))
            continue
        d = rows[cid]
        groups.append(Group(f"{STATUS_LABEL[d.status]} {cid}", STATUS_STYLE[d.status], placed, cid, d))
    return groups


def _by_resource(findings: list[Finding], roll: Rollup) -> list[Group]:
    placed: dict[str, list[Finding]] = {}
    for f in findings:
        placed.setdefault(f.resource.path, []).append(f)

    def key(path: str) -> tuple[int, str]:
        return (min(_SEVERITY_ORDER[f.severity] for f in placed[path]), path)

    return [Group(printable(path), "bold", placed[path]) for path in sorted(placed, key=key)]


def _by_rule(findings: list[Finding], roll: Rollup) -> list[Group]:
    return [Group("", "", findings)]


GROUPERS: dict[GroupBy, Callable[[list[Finding], Rollup], list[Group]]] = {
    "duty": _by_duty,
    "resource": _by_resource,
    "rule": _by_rule,
}


def _findings(layout: Layout, result: ScanResult, roll: Rollup, group_by: GroupBy, show_all: bool) -> None:
    findings = [f for f in sort_findings(result.shown()) if f.status is not Status.PASS]
    if not findings:
        return
    how = {"duty": "by the duty of highest severity", "resource": "by resource", "rule": "by rule"}[group_by]
    layout.heading(f"Failing findings, {how}")
    for g in GROUPERS[group_by](findings, roll):
        if g.row is not None:
            # One line: the duty's title shortened to leave room for what its verdict stands on.
            tail = f" · {g.row.summary()}"
            room = max(layout.width - len(g.heading) - 2 - len(tail), 24)
            layout.out.append(g.heading, g.style)
            layout.line(printable(f"  {shorten(g.row.control.title, room)}{tail}"))
        elif g.heading:
            layout.line(g.heading, g.style)
        for e in _entries(g.findings):
            _entry(layout, e, result, g.duty, show_all)


def _issues(layout: Layout, result: ScanResult) -> None:
    if not result.issues and not result.expired_waivers:
        return
    layout.heading("Issues")
    for i in result.issues:
        msg = f"{i.message} ({i.analyzer})" if i.analyzer else i.message
        style = "red" if i.kind == "error" else "yellow"
        layout.labelled(i.kind, f"{i.path}: {msg}", style, pad=16)
    for w in result.expired_waivers:
        text = f"{w.source}:{w.line or '?'}: expired on {w.expires}, no longer applies"
        text += f" ({plural(w.matched, 'matching finding')}): {w.reason}"
        layout.labelled("expired waiver", text, "yellow", pad=16)


def layout_report(result: ScanResult, catalog: Catalog, width: int, options: ReportOptions) -> _Segments:
    roll = rollup(result, catalog)
    layout = Layout(width)
    layout.line(printable(f"shareguard {result.command} {result.target}"), "bold")
    _summary(layout, result, roll)
    _duties(layout, roll, options.show_all)
    _findings(layout, result, roll, options.group_by, options.show_all)
    _issues(layout, result)
    return layout.out


def _render(result: ScanResult, catalog: Catalog, *, width: int, color: bool, options: ReportOptions) -> str:
    segments = layout_report(result, catalog, width, options)
    if not color:
        text = segments.plain()
    else:
        buf = io.StringIO()
        console = Console(file=buf, width=width, force_terminal=True, highlight=False, emoji=False, markup=False)
        # Already laid out to the width: soft_wrap stops rich from wrapping it again.
        console.print(segments.rich(), soft_wrap=True, end="")
        text = buf.getvalue()
    # Padding leaves trailing blanks: they only bloat files and diffs.
    return "\n".join(line.rstrip() for line in text.splitlines()) + "\n"


class TableReporter:
    name = "table"
    commands: frozenset[str] | None = None

    def __init__(self, options: ReportOptions | None = None) -> None:
        self.options = options or ReportOptions()

    def with_options(self, options: ReportOptions) -> TableReporter:
        return TableReporter(options)

    def render(self, result: ScanResult, catalog: Catalog) -> str:
        """Plain text (no escape codes): for files, pipes and tests."""
        return _render(result, catalog, width=PLAIN_WIDTH, color=False, options=self.options)

    def render_terminal(self, result: ScanResult, catalog: Catalog, width: int) -> str:
        return _render(result, catalog, width=max(width, MIN_WIDTH), color=True, options=self.options)
