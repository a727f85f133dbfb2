"""One-line texts every human-facing format shares: where a finding is, what was scanned, the summary."""

from __future__ import annotations

from shareguard.core.finding import Finding, Status
from shareguard.core.result import ScanResult
from shareguard.core.text import printable
from shareguard.report.rollup import DutyStatus, Rollup, severity_counts


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


def plural(n: int, word: str, many: str | None = None) -> str:
    return f"{n} {word if n == 1 else (many or word + 's')}"


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
    text += hidden_note(result)
    return text


def hidden_note(result: ScanResult) -> str:
    """` · N findings below the confidence threshold hidden (they still count in the duties)`, or ''."""
    notes = [f"{plural(n, 'finding')} {reason} hidden" for reason, n in sorted(result.hidden().items())]
    return f" · {', '.join(notes)} (still counted in the duties)" if notes else ""


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
    for what, why in sorted(result.metadata.get("not_assessed", {}).items()):
        lines.append(f"{what}: not assessed ({why})")
    return lines
