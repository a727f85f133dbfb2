"""`--format json`: the versioned, documented report schema (see report/schema/report.schema.json)."""

from __future__ import annotations

import json
from collections import Counter
from typing import Any

from shareguard import __version__
from shareguard.catalog.model import Catalog, Owner
from shareguard.core.finding import Finding, Status
from shareguard.core.result import ScanResult

SCHEMA_VERSION = "1.0.0"


def control_rollup(result: ScanResult, catalog: Catalog) -> list[dict[str, Any]]:
    """Each duty: fail if a failing finding names it, pass if assessed with none, else not_assessed.

    Provider duties are listed (owner `provider`, never assessed) so a reader sees where the line runs.
    """
    by_control: dict[str, Counter[str]] = {}
    for f in result.findings:
        for cid in f.control_ids:
            by_control.setdefault(cid, Counter())[f.status.value] += 1
    rows: list[dict[str, Any]] = []
    for svc in catalog.services.values():
        for c in svc.controls:
            counts = by_control.get(c.id, Counter())
            if c.owner is Owner.PROVIDER:
                status = "not_assessed"  # shareguard never assesses the provider's half
            elif counts.get(Status.FAIL.value):
                status = "fail"
            elif c.id in result.assessed or counts:
                status = "pass"
            else:
                status = "not_assessed"
            rows.append(
                {
                    "id": c.id,
                    "service": svc.service,
                    "owner": c.owner.value,
                    "title": c.title,
                    "status": status,
                    "counts": {s.value: counts.get(s.value, 0) for s in Status},
                    "frameworks": {k: list(v) for k, v in c.frameworks.items()},
                }
            )
    return rows


def finding_dict(f: Finding) -> dict[str, Any]:
    return {
        "rule_id": f.rule_id,
        "control_ids": list(f.control_ids),
        "severity": f.severity.value,
        "severity_source": f.severity_source.value,
        "title": f.title,
        "description": f.description,
        "status": f.status.value,
        "resource": f.resource.model_dump(exclude_none=True),
        "location": f.location.model_dump(exclude_none=True),
        "evidence": f.evidence,
        "remediation": f.remediation.model_dump(exclude_none=True),
        "fingerprint": f.fingerprint,
        "analyzer": f.analyzer,
        "waiver": f.waiver,
        "properties": f.properties,
    }


def report_dict(result: ScanResult, catalog: Catalog) -> dict[str, Any]:
    return {
        "schema_version": SCHEMA_VERSION,
        "tool": {"name": "shareguard", "version": __version__},
        "command": result.command,
        "target": result.target,
        "started": result.started.isoformat(),
        "finished": result.finished.isoformat(),
        "metadata": result.metadata,
        "summary": {
            "findings": dict(Counter(f.status.value for f in result.findings)),
            "by_severity": dict(Counter(f.severity.value for f in result.findings if f.status is Status.FAIL)),
        },
        "findings": [finding_dict(f) for f in result.findings],
        "controls": control_rollup(result, catalog),
        "issues": [
            {"path": i.path, "message": i.message, "analyzer": i.analyzer, "kind": i.kind} for i in result.issues
        ],
        "expired_waivers": [
            {"source": w.source, "line": w.line, "expires": w.expires, "reason": w.reason, "matched": w.matched}
            for w in result.expired_waivers
        ],
    }


class JsonReporter:
    name = "json"
    commands: frozenset[str] | None = None

    def render(self, result: ScanResult, catalog: Catalog) -> str:
        return json.dumps(report_dict(result, catalog), indent=2, sort_keys=False, default=str) + "\n"
