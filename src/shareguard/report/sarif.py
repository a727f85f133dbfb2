"""`--format sarif`: SARIF 2.1.0 for code-scanning dashboards (GitHub, GitLab, VS Code SARIF viewer).

One run; rules carry help text, remediation and GitHub's numeric `security-severity`; duties are a
SARIF taxonomy the rules relate to; waived findings carry an external suppression.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any
from urllib.parse import quote

from shareguard import __version__
from shareguard.catalog.model import Catalog, Owner
from shareguard.core.finding import Finding, Status
from shareguard.core.result import ScanResult
from shareguard.core.rules import RuleMeta
from shareguard.core.severity import Severity
from shareguard.report.rollup import Rollup, rollup

SARIF_VERSION = "2.1.0"
SARIF_SCHEMA_URI = "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json"
INFORMATION_URI = "https://github.com/shareguard/shareguard"
SRCROOT = "%SRCROOT%"
TAXONOMY = "shareguard-duties"
FINGERPRINT_KEY = "shareguard/v1"

LEVEL = {
    Severity.CRITICAL: "error",
    Severity.HIGH: "error",
    Severity.MEDIUM: "warning",
    Severity.LOW: "note",
    Severity.UNKNOWN: "warning",
    Severity.INFO: "note",
}

_SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*:")


def _rule_name(title: str) -> str:
    """SARIF `name`: a readable identifier (PascalCase of the title's words)."""
    words = re.findall(r"[A-Za-z0-9]+", title)
    return "".join(w[:1].upper() + w[1:] for w in words)[:100] or "Rule"


def _help(meta: RuleMeta) -> dict[str, str]:
    text = [meta.description or meta.title, f"Remediation: {meta.remediation}"]
    md = [meta.description or meta.title, "", f"**Remediation**: {meta.remediation}"]
    if meta.cli:
        text.append(f"Command: {meta.cli}")
        md += ["", "```sh", meta.cli, "```"]
    if meta.terraform:
        text.append(f"Terraform:\n{meta.terraform}")
        md += ["", "```hcl", meta.terraform, "```"]
    text.append(f"Duties: {', '.join(meta.control_ids)}")
    md += ["", f"**Duties**: {', '.join(meta.control_ids)}"]
    if meta.references:
        text.append("References: " + " ".join(meta.references))
        md += ["", *(f"- <{r}>" for r in meta.references)]
    return {"text": "\n".join(text), "markdown": "\n".join(md)}


def _meta_from_finding(f: Finding) -> RuleMeta:
    """Rules that fired without registered metadata are described from their first finding."""
    return RuleMeta(
        id=f.rule_id,
        title=f.title,
        severity=f.severity,
        control_ids=f.control_ids,
        description=f.description or "",
        remediation=f.remediation.text,
        cli=f.remediation.command,
        terraform=f.remediation.snippet,
        references=(f.remediation.url,) if f.remediation.url else (),
    )


def _rule(meta: RuleMeta, catalog: Catalog) -> dict[str, Any]:
    known = catalog.controls
    rule: dict[str, Any] = {
        "id": meta.id,
        "name": _rule_name(meta.title),
        "shortDescription": {"text": meta.title},
        "fullDescription": {"text": meta.description or meta.title},
        "help": _help(meta),
        "defaultConfiguration": {"level": LEVEL[meta.severity]},
        "properties": {
            "security-severity": meta.severity.security_severity,
            "severity": meta.severity.value,
            "precision": "high",
            "tags": list(dict.fromkeys(["security", *meta.control_ids, *meta.tags])),
        },
    }
    if not meta.severity.security_severity:  # unknown: no number rather than a made-up one
        del rule["properties"]["security-severity"]
    if meta.references:
        rule["helpUri"] = meta.references[0]
    relations = [
        {"target": {"id": cid, "toolComponent": {"name": TAXONOMY}}, "kinds": ["relevant"]}
        for cid in meta.control_ids
        if cid in known
    ]
    if relations:
        rule["relationships"] = relations
    return rule


def _artifact(path: str, rooted: bool) -> dict[str, Any]:
    if _SCHEME.match(path) and not re.match(r"^[A-Za-z]:[\\/]", path):
        return {"uri": path}  # already a URI (gs://, s3://, pkg:…)
    loc: dict[str, Any] = {"uri": quote(path.replace("\\", "/"), safe="/:@!$&'()*+,;=-._~")}
    if rooted:
        loc["uriBaseId"] = SRCROOT
    return loc


def _location(f: Finding, rooted: bool) -> dict[str, Any]:
    loc = f.location
    physical: dict[str, Any] = {"artifactLocation": _artifact(f.resource.path, rooted)}
    region: dict[str, Any] = {}
    if loc.line is not None and loc.line >= 1:
        region["startLine"] = loc.line
        if loc.end_line is not None and loc.end_line >= loc.line:
            region["endLine"] = loc.end_line
        if loc.column is not None and loc.column >= 1:
            region["startColumn"] = loc.column
    elif loc.offset is not None and loc.offset >= 0:
        region["byteOffset"] = loc.offset
    if region:
        physical["region"] = region
    out: dict[str, Any] = {"physicalLocation": physical}
    logical: list[dict[str, Any]] = []
    if loc.field_path:
        logical.append({"fullyQualifiedName": loc.field_path, "kind": "member"})
    if f.resource.name:
        logical.append({"name": f.resource.name, "kind": "resource"})
    if logical:
        out["logicalLocations"] = logical
    extra = {k: v for k, v in (("layer_digest", loc.layer_digest), ("member", loc.member), ("record", loc.record)) if v}
    if extra:
        out["properties"] = extra
    return out


def _message(f: Finding) -> str:
    text = f.title
    if f.evidence:
        text += f" (evidence: {f.evidence})"
    text += f". Fix: {f.remediation.text}"
    if f.remediation.fixed_version:
        text += f" (fixed in {f.remediation.fixed_version})"
    return text


def _result(f: Finding, index: int, rooted: bool) -> dict[str, Any]:
    out: dict[str, Any] = {
        "ruleId": f.rule_id,
        "ruleIndex": index,
        "kind": "pass" if f.status is Status.PASS else "fail",
        "level": "none" if f.status is Status.PASS else LEVEL[f.severity],
        "message": {"text": _message(f)},
        "locations": [_location(f, rooted)],
        "partialFingerprints": {FINGERPRINT_KEY: f.fingerprint},
        "properties": {
            "severity": f.severity.value,
            "severity_source": f.severity_source.value,
            "control_ids": list(f.control_ids),
            "resource_type": f.resource.type,
            **({"remediation_command": f.remediation.command} if f.remediation.command else {}),
            **({"fixed_version": f.remediation.fixed_version} if f.remediation.fixed_version else {}),
        },
    }
    if f.status is Status.WAIVED:
        out["suppressions"] = [
            {"kind": "external", "status": "accepted", "justification": f.waiver or "waived in the waiver file"}
        ]
    return out


def _notifications(result: ScanResult) -> list[dict[str, Any]]:
    notes: list[dict[str, Any]] = []
    for i in result.issues:
        note: dict[str, Any] = {
            "level": "error" if i.kind == "error" else "warning",
            "message": {"text": f"{i.path}: {i.message}"},
        }
        if i.analyzer:
            note["properties"] = {"analyzer": i.analyzer}
        notes.append(note)
    for w in result.expired_waivers:
        notes.append(
            {
                "level": "warning",
                "message": {
                    "text": f"{w.source}:{w.line or '?'}: waiver expired on {w.expires} and no longer applies "
                    f"({w.matched} matching finding(s)): {w.reason}"
                },
            }
        )
    return notes


def _taxonomy(catalog: Catalog, used: set[str], roll: Rollup) -> dict[str, Any]:
    """The duties rules relate to, plus every customer duty, each with its verdict and what it stands on."""
    known = catalog.controls
    verdicts = {d.control.id: d for d in roll.duties()}
    wanted = used | {cid for cid, d in verdicts.items() if d.owner is Owner.CUSTOMER}
    taxa = []
    for cid in sorted(wanted):
        props: dict[str, Any] = {"service": known[cid].service}
        d = verdicts.get(cid)
        if d is not None:
            props.update({"status": d.status.value, "summary": d.summary()})
        taxa.append({"id": cid, "name": known[cid].title, "properties": props})
    return {
        "name": TAXONOMY,
        "organization": "shareguard",
        "shortDescription": {"text": "The shared-responsibility duty catalog (customer duties) shareguard checks."},
        "taxa": taxa,
    }


def sarif_dict(result: ScanResult, catalog: Catalog) -> dict[str, Any]:
    metas: dict[str, RuleMeta] = dict(result.rules)
    for f in result.findings:
        if f.rule_id not in metas:
            metas[f.rule_id] = _meta_from_finding(f)
    ids = sorted(metas)
    index = {rid: i for i, rid in enumerate(ids)}
    rules = [_rule(metas[rid], catalog) for rid in ids]
    used = {cid for m in metas.values() for cid in m.control_ids if cid in catalog.controls}
    # Paths of workspace scans are relative to the scanned root (scan.py records it); others are
    # paths inside an image or URIs and get no base.
    scan_root = result.metadata.get("scan_root")
    rooted = isinstance(scan_root, str) and bool(scan_root)
    run: dict[str, Any] = {
        "tool": {
            "driver": {
                "name": "shareguard",
                "version": __version__,
                "semanticVersion": __version__,
                "informationUri": INFORMATION_URI,
                "rules": rules,
                "supportedTaxonomies": [{"name": TAXONOMY}],
            }
        },
        "taxonomies": [_taxonomy(catalog, used, rollup(result, catalog))],
        "invocations": [
            {
                "executionSuccessful": not result.has_errors(),
                "startTimeUtc": result.started.isoformat(),
                "endTimeUtc": result.finished.isoformat(),
                "toolExecutionNotifications": _notifications(result),
            }
        ],
        "results": [_result(f, index[f.rule_id], rooted) for f in result.shown()],
        "properties": {"command": result.command, "target": result.target},
    }
    if isinstance(scan_root, str) and scan_root:
        base = Path(scan_root).resolve().as_uri()
        run["originalUriBaseIds"] = {SRCROOT: {"uri": base if base.endswith("/") else base + "/"}}
    return {"$schema": SARIF_SCHEMA_URI, "version": SARIF_VERSION, "runs": [run]}


class SarifReporter:
    name = "sarif"
    commands: frozenset[str] | None = None

    def render(self, result: ScanResult, catalog: Catalog) -> str:
        return json.dumps(sarif_dict(result, catalog), indent=2, ensure_ascii=False, default=str) + "\n"
