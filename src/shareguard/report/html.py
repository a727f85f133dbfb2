"""`--format html`: one self-contained file (inline CSS and JS, no network fetches).

The header (what was scanned, when, with which database and catalog), the shared-responsibility matrix,
the charts, the ML stack and the package counts are rendered here (they show without JavaScript); the
findings and the package list are built client-side from an embedded JSON block so that grouping
(by duty, resource or rule), filters and search work offline. A Content-Security-Policy with hashes of
the inline style and script forbids every fetch and any other script. Every value is escaped here, or
set with `textContent` by the script: user content never becomes markup.
"""

from __future__ import annotations

import base64
import hashlib
import json
from datetime import UTC, datetime
from functools import cache
from html import escape
from importlib import resources
from typing import Any

from shareguard import __version__
from shareguard.catalog.model import Catalog
from shareguard.core.facts import ImageIdentity, Package
from shareguard.core.finding import Finding, Status
from shareguard.core.result import ScanResult
from shareguard.core.severity import Severity
from shareguard.report.grouping import by_duty
from shareguard.report.inventory import layer_ecosystem_counts, package_rows
from shareguard.report.ml_stack import summary as ml_stack_summary
from shareguard.report.options import ReportOptions
from shareguard.report.rollup import (
    DutyRow,
    DutyStatus,
    Rollup,
    ServiceRollup,
    finding_services,
    rollup,
    severity_counts,
    sort_findings,
)
from shareguard.report.summary import scanned_lines, summary_line, where

OTHER_SERVICE = "other"

SEVERITY_COLOUR = {
    Severity.CRITICAL: "#7f0000",
    Severity.HIGH: "#d32f2f",
    Severity.MEDIUM: "#f9a825",
    Severity.LOW: "#0288d1",
    Severity.UNKNOWN: "#6a1b9a",
    Severity.INFO: "#90a4ae",
}


@cache
def _asset(name: str) -> str:
    return resources.files("shareguard.report").joinpath("assets", name).read_text(encoding="utf-8")


def _e(value: object) -> str:
    return escape(str(value), quote=True)


def script_json(value: Any) -> str:
    """JSON safe inside `<script type="application/json">`: no `<`, `>` or `&` can end the element."""
    text = json.dumps(value, ensure_ascii=True, separators=(",", ":"), default=str)
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def _csp_hash(content: str) -> str:
    return "'sha256-" + base64.b64encode(hashlib.sha256(content.encode("utf-8")).digest()).decode("ascii") + "'"


STATUS_COLOUR = {
    DutyStatus.FAIL: "#c62828",
    DutyStatus.ACCEPTED: "#8e24aa",
    DutyStatus.INCOMPLETE: "#ef6c00",
    DutyStatus.PASS: "#2e7d32",
    DutyStatus.NOT_ASSESSED: "#b0a060",
}


def _bar_chart(ident: str, title: str, rows: list[tuple[str, list[tuple[int, str, str]]]]) -> str:
    """Horizontal (stacked) bars as inline SVG: per row a label and (value, colour, name) parts. The SVG
    scales to its container (viewBox), so it never widens the page."""
    top = max((sum(v for v, _, _ in parts) for _, parts in rows), default=0) or 1
    label_w = max(80, min(260, 7 * max((len(label) for label, _ in rows), default=0) + 10))
    bar_w, row_h = 420, 24
    width, height = label_w + bar_w + 50, row_h * len(rows) + 8
    out = [
        f'<svg class="chart" id="{ident}" role="img" aria-labelledby="{ident}-title" viewBox="0 0 {width} {height}" '
        f'width="{width}" height="{height}" xmlns="http://www.w3.org/2000/svg">',
        f'<title id="{ident}-title">{_e(title)}</title>',
    ]
    for i, (label, parts) in enumerate(rows):
        y = 4 + i * row_h
        out.append(f'<text x="0" y="{y + 15}">{_e(label)}</text>')
        x = float(label_w)
        for value, colour, name in parts:
            if not value:
                continue
            w = max(bar_w * value / top, 2.0)
            out.append(
                f'<rect x="{x:.1f}" y="{y}" width="{w:.1f}" height="{row_h - 6}" fill="{colour}">'
                f"<title>{_e(label)}: {value} {_e(name)}</title></rect>"
            )
            x += w
        total = sum(v for v, _, _ in parts)
        out.append(f'<text x="{x + 6:.1f}" y="{y + 15}">{total}</text>')
    out.append("</svg>")
    return "".join(out)


def severity_chart(result: ScanResult) -> str:
    """Failing findings per severity."""
    counts = severity_counts(result.shown())
    rows = [(s.value, [(counts[s.value], SEVERITY_COLOUR[s], "failing")]) for s in Severity]
    return _bar_chart("chart-severity", "Failing findings by severity", rows)


def service_chart(roll: Rollup) -> str:
    """Customer duties per service, stacked by verdict."""
    rows = []
    for s in roll.services:
        parts = [
            (sum(1 for d in s.customer if d.status is st), STATUS_COLOUR[st], st.value.replace("_", " "))
            for st in DutyStatus
        ]
        rows.append((s.service.service, parts))
    legend = "".join(
        f'<span class="legend"><i class="sw sw-{st.value}"></i>{_e(st.value.replace("_", " "))}</span>'
        for st in DutyStatus
    )
    return _bar_chart("chart-service", "Customer duties per service by verdict", rows) + f'<p class="meta">{legend}</p>'


# --- header --------------------------------------------------------------------------------------


def _when(ts: datetime) -> str:
    """`2026-11-23 12:00:00 UTC (local: 2026-11-23 13:00:00 CET)`: human-readable, in UTC and in the local time
    of the machine that wrote the report."""
    utc = ts.astimezone(UTC)
    local = ts.astimezone()
    return f"{utc.strftime('%Y-%m-%d %H:%M:%S UTC')} (local: {local.strftime('%Y-%m-%d %H:%M:%S %Z')})"


def _duration(result: ScanResult) -> str:
    seconds = max((result.finished - result.started).total_seconds(), 0.0)
    return f"{seconds:.1f} s" if seconds < 120 else f"{seconds / 60:.1f} min"


def _database(result: ScanResult) -> str:
    db = result.metadata.get("vulnerability_db")
    if not isinstance(db, dict):
        return "vulnerability database: not used by this scan"
    text = "vulnerability database"
    updated = db.get("updated")
    if isinstance(updated, str) and updated:
        try:
            text += f" updated {datetime.fromisoformat(updated).astimezone(UTC).strftime('%Y-%m-%d')}"
        except ValueError:
            text += f" updated {updated}"
    age = db.get("age_days")
    if isinstance(age, int | float):
        text += f" ({age:.0f} days old{', stale' if db.get('stale') else ''})"
    ecosystems = db.get("ecosystems")
    if isinstance(ecosystems, list) and ecosystems:
        text += f"; advisories for {', '.join(str(e) for e in ecosystems)}"
    return text


def _header(result: ScanResult, catalog: Catalog, roll: Rollup) -> str:
    image = next(iter(result.facts.of(ImageIdentity)), None)
    what = f'<code>shareguard {_e(result.command)}</code> on <b class="target">{_e(result.target)}</b>'
    if image is not None:
        what += f" · image {_e(image.reference)}" + (f" ({_e(image.digest)})" if image.digest else "")
        what += f" · {_e(image.platform)}"
    n_duties = sum(len(s.duties) for s in roll.services)
    facts = [
        f"started {_e(_when(result.started))}",
        f"took {_e(_duration(result))}",
        _e(_database(result)),
        f"duty catalog bundled with shareguard {_e(__version__)} ({len(catalog.services)} services, {n_duties} duties)",
    ]
    return (
        f'<p class="meta" id="scanned-what">Scanned: {what}</p>'
        f'<p class="meta" id="scanned-when">{" · ".join(facts)}</p>'
    )


# --- the matrix -----------------------------------------------------------------------------------


def _duty_tr(d: DutyRow) -> str:
    provider = d.owner.value == "provider"
    status_cls = "provider" if provider else d.status.value
    status_text = "provider's half" if provider else d.status.value.replace("_", " ")
    ident = _e(d.control.id)
    link = ident if provider else f'<a href="#duty={ident}">{ident}</a>'
    checked = "" if provider else f"{d.resources} / {d.rules}"
    return (
        f'<tr class="duty {"provider" if provider else "customer"}" data-duty="{ident}" data-status="{status_cls}">'
        f'<td class="mono id">{link}</td><td>{_e(d.control.title)}</td>'
        f'<td><span class="status st-{status_cls}">{_e(status_text)}</span></td>'
        f'<td class="num">{d.counts["fail"]}</td><td class="num">{d.counts["waived"]}</td>'
        f'<td class="num checked-n">{checked}</td>'
        f'<td class="checked">{_e(d.summary())}</td></tr>'
    )


MATRIX_COLS = (
    '<colgroup><col class="c-id"><col class="c-title"><col class="c-status"><col class="c-n"><col class="c-n">'
    '<col class="c-rr"><col class="c-why"></colgroup>'
)


def _service_matrix(s: ServiceRollup) -> str:
    svc = s.service
    rows = "".join(_duty_tr(d) for d in (*s.customer, *s.provider))
    return (
        f'<div class="service" id="svc-{_e(svc.service)}" data-service="{_e(svc.service)}">'
        f"<h3>{_e(svc.name)} <small>{_e(svc.service)} · {_e(svc.cloud)}</small></h3>"
        f'<table class="matrix">{MATRIX_COLS}<thead><tr><th>Duty</th><th>Title</th><th>Status</th>'
        '<th class="num" title="failing findings">Fail</th><th class="num" title="waived findings">Accepted</th>'
        '<th class="num" title="resources / rules evaluated">Checked</th><th>What it stands on / why not</th></tr>'
        f"</thead><tbody>{rows}</tbody></table></div>"
    )


def _overview(roll: Rollup) -> str:
    """One row per service: how many customer duties fail, pass, were not assessed; provider duties."""
    rows = []
    for s in roll.services:
        counts = {st.value: sum(1 for d in s.customer if d.status is st) for st in DutyStatus}
        cells = "".join(
            f'<td class="num"><span class="status st-{st}">{n}</span></td>' if n else '<td class="num">0</td>'
            for st, n in counts.items()
        )
        svc = _e(s.service.service)
        rows.append(
            f'<tr data-service="{svc}"><td><a href="#svc-{svc}">{_e(s.service.name)}</a></td>'
            f'<td>{_e(s.service.cloud)}</td>{cells}<td class="num">{len(s.provider)}</td></tr>'
        )
    return (
        '<div class="scroll"><table class="overview" id="overview"><thead><tr><th>Service</th><th>Cloud</th>'
        '<th class="num">Failing</th><th class="num">Accepted</th><th class="num">Incomplete</th>'
        '<th class="num">Passing</th><th class="num">Not assessed</th>'
        f'<th class="num">Provider duties</th></tr></thead><tbody>{"".join(rows)}</tbody></table></div>'
    )


# --- the data the script renders ---------------------------------------------------------------------


def _view_finding(f: Finding, catalog: Catalog, group_duty: str | None) -> dict[str, Any]:
    rem = f.remediation
    return {
        "rule_id": f.rule_id,
        "severity": f.severity.value,
        "status": f.status.value,
        "title": f.title,
        "where": where(f),
        "path": f.resource.path,
        "resource": f.resource.name if f.resource.name != f.resource.path else None,
        "services": finding_services(f, catalog) or [OTHER_SERVICE],
        "control_ids": list(f.control_ids),
        "group_duty": group_duty,
        "evidence": f.evidence,
        "remediation": rem.text + (f" (fixed in {rem.fixed_version})" if rem.fixed_version else ""),
        "command": rem.command,
        "snippet": rem.snippet,
        "url": rem.url,
        "waiver": f.waiver,
        "fingerprint": f.fingerprint,
    }


def view_model(
    result: ScanResult, catalog: Catalog, roll: Rollup, options: ReportOptions | None = None
) -> dict[str, Any]:
    """What the page's script needs: findings with their services and group duty, the filter choices,
    rule and duty texts (once each), the package list."""
    findings = sort_findings(result.shown())
    failing = [f for f in findings if f.status is not Status.PASS]
    group_of: dict[int, str | None] = {}
    duty_order: list[str] = []
    for cid, placed in by_duty(failing, roll):
        if cid is not None:
            duty_order.append(cid)
        for f in placed:
            group_of[id(f)] = cid
    services = [{"id": s.service.service, "name": s.service.name} for s in roll.services]
    if roll.unmapped:
        services.append({"id": OTHER_SERVICE, "name": "Other duties"})
    used = {cid for f in findings for cid in f.control_ids}
    rows = {d.control.id: d for d in roll.duties()}
    duties = [
        {
            "id": cid,
            "title": rows[cid].control.title if cid in rows else "",
            "status": rows[cid].status.value if cid in rows else "",
        }
        for cid in sorted(used)
    ]
    rules = {
        rid: {"title": meta.title, "description": meta.description}
        for rid, meta in result.rules.items()
        if rid in {f.rule_id for f in findings}
    }
    return {
        "findings": [_view_finding(f, catalog, group_of.get(id(f))) for f in findings],
        "services": services,
        "duties": duties,
        "rules": rules,
        "severities": [s.value for s in Severity],
        "statuses": [s.value for s in Status],
        "group_by": (options or ReportOptions()).group_by,
        "duty_order": duty_order,
        "packages": package_rows(result),
    }


def _cards(result: ScanResult, roll: Rollup) -> str:
    shown = result.shown()
    failing = sum(1 for f in shown if f.status is Status.FAIL)
    waived = sum(1 for f in shown if f.status is Status.WAIVED)
    duties = roll.customer_status_counts()
    errors = sum(1 for i in result.issues if i.kind == "error")
    cards = [
        ("fail", failing, "failing findings"),
        ("", waived, "waived findings"),
        ("fail", duties["fail"], "customer duties failing"),
        ("", duties["accepted"], "customer duties accepted (all failures waived)"),
        ("na", duties["incomplete"], "customer duties incomplete"),
        ("pass", duties["pass"], "customer duties passing"),
        ("na", duties["not_assessed"], "customer duties not assessed"),
        ("", errors, "inputs not scanned"),
    ]
    return (
        '<div class="cards">'
        + "".join(f'<div class="card {cls}"><b>{n}</b>{_e(label)}</div>' for cls, n, label in cards)
        + "</div>"
    )


def _issues(result: ScanResult) -> str:
    if not result.issues and not result.expired_waivers:
        return ""
    rows = [
        f'<tr class="issue issue-{_e(i.kind)}"><td>{_e(i.kind)}</td><td class="mono wrap">{_e(i.path)}</td>'
        f'<td class="wrap">{_e(i.message)}{" (" + _e(i.analyzer) + ")" if i.analyzer else ""}</td></tr>'
        for i in result.issues
    ]
    rows += [
        f'<tr class="expired-waiver"><td>expired waiver</td><td class="mono wrap">{_e(w.source)}:{_e(w.line or "?")}</td>'
        f'<td class="wrap">expired on {_e(w.expires)}, no longer applies ({w.matched} matching finding(s)): '
        f"{_e(w.reason)}</td></tr>"
        for w in result.expired_waivers
    ]
    return (
        '<section id="issues"><h2>Issues and expired waivers</h2><table class="issues"><colgroup><col class="c-kind">'
        '<col class="c-where"><col></colgroup><thead><tr><th>Kind</th><th>Where</th>'
        f"<th>Message</th></tr></thead><tbody>{''.join(rows)}</tbody></table></section>"
    )


def _scanned(result: ScanResult) -> str:
    lines = scanned_lines(result)
    if not lines:
        return '<p id="scanned" class="meta">Analyzers: nothing any analyzer could evaluate.</p>'
    return '<ul id="scanned" class="meta">' + "".join(f'<li class="wrap">{_e(line)}</li>' for line in lines) + "</ul>"


# --- inventory ------------------------------------------------------------------------------------------


def _ml_stack(result: ScanResult) -> str:
    stack = ml_stack_summary(result.facts.of(Package))
    if stack is None:
        return ""
    rows = []
    for name in ("cuda", "cudnn", "nccl"):
        for entry in stack[name]:
            extra = ", ".join(f"{k}: {v}" for k, v in entry.items() if k not in ("version", "path"))
            rows.append((name.upper() if name != "cudnn" else "cuDNN", entry["version"], entry["path"], extra))
    for fw in stack["frameworks"]:
        extra = ", ".join(f"{k}: {v}" for k, v in fw.items() if k not in ("name", "version", "path", "ecosystem"))
        rows.append((fw["name"], fw["version"], fw["path"], extra))
    body = "".join(
        f'<tr><td>{_e(a)}</td><td class="mono">{_e(b)}</td><td class="mono wrap">{_e(c)}</td>'
        f'<td class="mono wrap">{_e(d)}</td></tr>'
        for a, b, c, d in rows
    )
    accel = ", ".join(stack["accelerators"]) or "none recognised"
    return (
        f'<div id="ml-stack"><h3>ML stack</h3><p class="meta">Accelerators: {_e(accel)}</p>'
        '<table class="mlstack"><colgroup><col class="c-comp"><col class="c-ver"><col class="c-path"><col></colgroup>'
        "<thead><tr><th>Component</th><th>Version</th><th>Found at</th><th>Build</th></tr></thead>"
        f"<tbody>{body}</tbody></table></div>"
    )


def _inventory(result: ScanResult) -> str:
    rows = package_rows(result)
    stack = _ml_stack(result)
    if not rows and not stack:
        return ""
    image = next(iter(result.facts.of(ImageIdentity)), None)
    counts = layer_ecosystem_counts(rows, image.layers if image is not None else ())
    layer_no = {layer: i + 1 for i, layer in enumerate(image.layers)} if image is not None else {}
    table = "".join(
        f'<tr><td class="mono wrap">{_e(_layer_label(layer, layer_no))}</td><td>{_e(eco)}</td>'
        f'<td class="num">{n}</td></tr>'
        for layer, eco, n in counts
    )
    return (
        '<section id="inventory"><h2>Inventory</h2>'
        f"{stack}"
        f"<h3>Packages by layer and ecosystem <small>{len(rows)} packages</small></h3>"
        '<table class="layers"><colgroup><col class="c-layer"><col class="c-eco"><col class="c-n"></colgroup>'
        f'<thead><tr><th>Layer</th><th>Ecosystem</th><th class="num">Packages</th></tr></thead><tbody>{table}</tbody>'
        "</table>"
        '<div class="filters"><label>Search packages<input id="p-search" type="search" placeholder="name, version, purl…">'
        '</label><label>Ecosystem<select id="p-ecosystem"><option value="">All ecosystems</option></select></label>'
        '</div><p class="meta" aria-live="polite">Showing <b id="p-shown"></b> of <b id="p-total"></b> packages</p>'
        '<table id="packages"><colgroup><col class="c-pname"><col class="c-ver"><col class="c-eco"><col class="c-origin">'
        '<col class="c-layer"><col></colgroup><thead><tr><th>Package</th><th>Version</th><th>Ecosystem</th>'
        '<th>Origin</th><th>Layer</th><th>purl</th></tr></thead><tbody id="packages-body"></tbody></table></section>'
    )


def _layer_label(layer: str, numbers: dict[str, int]) -> str:
    if not layer:
        return "(no layer)"
    short = layer.split(":")[-1][:12]
    return f"{numbers[layer]}: {short}" if layer in numbers else short


def render_html(result: ScanResult, catalog: Catalog, options: ReportOptions | None = None) -> str:
    roll = rollup(result, catalog)
    css, js = _asset("report.css"), _asset("report.js")
    csp = (
        f"default-src 'none'; style-src {_csp_hash(css)}; script-src {_csp_hash(js)}; img-src data:; "
        "base-uri 'none'; form-action 'none'"
    )
    title = f"shareguard {result.command} {result.target}"
    matrix = "".join(_service_matrix(s) for s in roll.services)
    return f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="{_e(csp)}">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="generator" content="shareguard {_e(__version__)}">
<title>{_e(title)}</title>
<style>{css}</style>
</head>
<body>
<header>
<h1 class="wrap">{_e(title)}</h1>
{_header(result, catalog, roll)}
<p id="summary" class="wrap">{_e(summary_line(result, roll))}</p>
{_scanned(result)}
{_cards(result, roll)}
</header>
<section id="charts"><h2>At a glance</h2><div class="charts">
<figure><figcaption>Failing findings by severity</figcaption>{severity_chart(result)}</figure>
<figure><figcaption>Customer duties per service</figcaption>{service_chart(roll)}</figure>
</div></section>
<section id="matrix"><h2>Shared-responsibility matrix</h2>
<p class="meta">A customer duty <span class="status st-pass">passes</span> only where a check evaluated something \
in its scope and found nothing wrong; nothing checked is <span class="status st-not_assessed">not assessed</span>, \
never passing; input that could not be analysed makes it <span class="status st-incomplete">incomplete</span>. \
Provider duties are the cloud's half. Checked: resources / rules evaluated.</p>
{_overview(roll)}
{matrix}</section>
<section id="findings"><h2>Findings</h2>
<div class="filters">
<label>Group by<select id="f-group"><option value="duty">Duty (highest severity)</option>\
<option value="resource">Resource</option><option value="rule">Rule</option></select></label>
<label>Service<select id="f-service"><option value="">All services</option></select></label>
<label>Duty<select id="f-duty"><option value="">All duties</option></select></label>
<label>Severity<select id="f-severity"><option value="">All severities</option></select></label>
<label>Status<select id="f-status"><option value="">All statuses</option></select></label>
<label class="grow">Search<input id="f-search" type="search" placeholder="rule, title, resource, evidence…"></label>
</div>
<p id="shown" aria-live="polite">Showing <b id="shown-count"></b> of <b id="total-count"></b> findings</p>
<noscript><p>The findings are laid out by the page's script; the data is in the
<code>report-data</code> block of this file.</p></noscript>
<div id="findings-list"></div>
</section>
{_inventory(result)}
{_issues(result)}
<script type="application/json" id="report-data">{script_json(view_model(result, catalog, roll, options))}</script>
<script>{js}</script>
</body>
</html>
"""


class HtmlReporter:
    name = "html"
    commands: frozenset[str] | None = None

    def __init__(self, options: ReportOptions | None = None) -> None:
        self.options = options or ReportOptions()

    def with_options(self, options: ReportOptions) -> HtmlReporter:
        return HtmlReporter(options)

    def render(self, result: ScanResult, catalog: Catalog) -> str:
        return render_html(result, catalog, self.options)
