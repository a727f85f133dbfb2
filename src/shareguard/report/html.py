"""`--format html`: one self-contained file (inline CSS and JS, no network fetches).

The shared-responsibility matrix and the severity chart are rendered here (they show without
JavaScript); the findings table is built client-side from an embedded JSON block so that its
filters (service, duty, severity, status) work offline. A Content-Security-Policy with hashes of
the inline style and script forbids every fetch and any other script.
"""

from __future__ import annotations

import base64
import hashlib
import json
from functools import cache
from html import escape
from importlib import resources
from typing import Any

from shareguard import __version__
from shareguard.catalog.model import Catalog
from shareguard.core.finding import Finding, Status
from shareguard.core.result import ScanResult
from shareguard.core.severity import Severity
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


def severity_chart(result: ScanResult) -> str:
    """Horizontal bars of failing findings per severity, as inline SVG."""
    counts = severity_counts(result.shown())
    top = max(counts.values()) or 1
    bar_w, label_w, row_h = 360, 80, 26
    height = row_h * len(counts) + 8
    parts = [
        f'<svg class="chart" role="img" aria-labelledby="chart-title" width="{label_w + bar_w + 60}" '
        f'height="{height}" viewBox="0 0 {label_w + bar_w + 60} {height}" xmlns="http://www.w3.org/2000/svg">',
        '<title id="chart-title">Failing findings by severity</title>',
    ]
    for i, sev in enumerate(Severity):
        n = counts[sev.value]
        y = 4 + i * row_h
        w = round(bar_w * n / top) if n else 0
        parts.append(f'<text x="0" y="{y + 16}">{_e(sev.value)}</text>')
        parts.append(
            f'<rect class="bar bar-{sev.value}" x="{label_w}" y="{y}" width="{max(w, 1)}" height="{row_h - 6}" '
            f'fill="{SEVERITY_COLOUR[sev]}" rx="3"><title>{n} {sev.value}</title></rect>'
        )
        parts.append(f'<text x="{label_w + max(w, 1) + 6}" y="{y + 16}">{n}</text>')
    parts.append("</svg>")
    return "".join(parts)


def _duty_tr(d: DutyRow) -> str:
    provider = d.owner.value == "provider"
    status_cls = "provider" if provider else d.status.value
    status_text = "provider's half" if provider else d.status.value.replace("_", " ")
    ident = _e(d.control.id)
    link = ident if provider else f'<a href="#duty={ident}">{ident}</a>'
    return (
        f'<tr class="duty {"provider" if provider else "customer"}" data-duty="{ident}" data-status="{status_cls}">'
        f'<td class="mono id">{link}</td><td>{_e(d.control.title)}</td><td>{_e(d.owner.value)}</td>'
        f'<td><span class="status st-{status_cls}">{_e(status_text)}</span></td>'
        f'<td class="num">{d.counts["fail"]}</td><td class="num">{d.counts["waived"]}</td>'
        f'<td class="checked">{_e(d.summary())}</td></tr>'
    )


def _service_matrix(s: ServiceRollup) -> str:
    svc = s.service
    rows = "".join(_duty_tr(d) for d in (*s.customer, *s.provider))
    return (
        f'<div class="service" id="svc-{_e(svc.service)}" data-service="{_e(svc.service)}">'
        f"<h3>{_e(svc.name)} <small>{_e(svc.service)} · {_e(svc.cloud)}</small></h3>"
        '<table class="matrix"><thead><tr><th>Duty</th><th>Title</th><th>Owner</th><th>Status</th>'
        '<th class="num">Fail</th><th class="num">Waived</th><th>Checked / why not</th></tr></thead>'
        f"<tbody>{rows}</tbody></table></div>"
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
        '<table class="overview" id="overview"><thead><tr><th>Service</th><th>Cloud</th>'
        '<th class="num">Customer duties failing</th><th class="num">Accepted</th><th class="num">Incomplete</th>'
        '<th class="num">Passing</th><th class="num">Not assessed</th>'
        f'<th class="num">Provider duties</th></tr></thead><tbody>{"".join(rows)}</tbody></table>'
    )


def _view_finding(f: Finding, catalog: Catalog) -> dict[str, Any]:
    return {
        "rule_id": f.rule_id,
        "severity": f.severity.value,
        "status": f.status.value,
        "title": f.title,
        "where": where(f),
        "services": finding_services(f, catalog) or [OTHER_SERVICE],
        "control_ids": list(f.control_ids),
        "evidence": f.evidence,
        "remediation": f.remediation.text
        + (f" (fixed in {f.remediation.fixed_version})" if f.remediation.fixed_version else ""),
        "command": f.remediation.command,
        "waiver": f.waiver,
        "fingerprint": f.fingerprint,
    }


def view_model(result: ScanResult, catalog: Catalog, roll: Rollup) -> dict[str, Any]:
    """What the page's script needs: findings with their services, and the filter choices."""
    findings = sort_findings(result.shown())
    services = [{"id": s.service.service, "name": s.service.name} for s in roll.services]
    if roll.unmapped:
        services.append({"id": OTHER_SERVICE, "name": "Other duties"})
    used = {cid for f in findings for cid in f.control_ids}
    known = catalog.controls
    duties = [{"id": cid, "title": known[cid].title if cid in known else ""} for cid in sorted(used)]
    return {
        "findings": [_view_finding(f, catalog) for f in findings],
        "services": services,
        "duties": duties,
        "severities": [s.value for s in Severity],
        "statuses": [s.value for s in Status],
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
        f'<tr class="issue issue-{_e(i.kind)}"><td>{_e(i.kind)}</td><td class="mono">{_e(i.path)}</td>'
        f"<td>{_e(i.message)}{' (' + _e(i.analyzer) + ')' if i.analyzer else ''}</td></tr>"
        for i in result.issues
    ]
    rows += [
        f'<tr class="expired-waiver"><td>expired waiver</td><td class="mono">{_e(w.source)}:{_e(w.line or "?")}</td>'
        f"<td>expired on {_e(w.expires)}, no longer applies ({w.matched} matching finding(s)): {_e(w.reason)}</td></tr>"
        for w in result.expired_waivers
    ]
    return (
        '<section id="issues"><h2>Issues and expired waivers</h2><table><thead><tr><th>Kind</th><th>Where</th>'
        f"<th>Message</th></tr></thead><tbody>{''.join(rows)}</tbody></table></section>"
    )


def _scanned(result: ScanResult) -> str:
    lines = scanned_lines(result)
    if not lines:
        return '<p id="scanned" class="meta">Scanned: nothing any analyzer could evaluate.</p>'
    return '<ul id="scanned" class="meta">' + "".join(f"<li>{_e(line)}</li>" for line in lines) + "</ul>"


def render_html(result: ScanResult, catalog: Catalog) -> str:
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
<h1>{_e(title)}</h1>
<p class="meta">shareguard {_e(__version__)} · started {_e(result.started.isoformat())} · \
finished {_e(result.finished.isoformat())}</p>
<p id="summary">{_e(summary_line(result, roll))}</p>
{_scanned(result)}
{_cards(result, roll)}
</header>
<section id="severity-chart"><h2>Failing findings by severity</h2>{severity_chart(result)}</section>
<section id="matrix"><h2>Shared-responsibility matrix</h2>
<p class="meta">Customer duties are checked by shareguard's analyzers; a duty no analyzer covered is \
<span class="status st-not_assessed">not assessed</span>, never passing. Provider duties are the cloud's half.</p>
{_overview(roll)}
{matrix}</section>
<section id="findings"><h2>Findings</h2>
<div class="filters">
<label>Service<select id="f-service"><option value="">All services</option></select></label>
<label>Duty<select id="f-duty"><option value="">All duties</option></select></label>
<label>Severity<select id="f-severity"><option value="">All severities</option></select></label>
<label>Status<select id="f-status"><option value="">All statuses</option></select></label>
</div>
<p id="shown" aria-live="polite">Showing <b id="shown-count"></b> of <b id="total-count"></b> findings</p>
<noscript><p>The findings table is built by the page's script; the data is in the
<code>report-data</code> block of this file.</p></noscript>
<table id="findings-table"><thead><tr><th>Severity</th><th>Status</th><th>Rule</th><th>Title</th>\
<th>Resource</th><th>Duties</th><th>Evidence (masked)</th><th>Remediation</th></tr></thead>
<tbody id="findings-body"></tbody></table>
</section>
{_issues(result)}
<script type="application/json" id="report-data">{script_json(view_model(result, catalog, roll))}</script>
<script>{js}</script>
</body>
</html>
"""


class HtmlReporter:
    name = "html"
    commands: frozenset[str] | None = None

    def render(self, result: ScanResult, catalog: Catalog) -> str:
        return render_html(result, catalog)
