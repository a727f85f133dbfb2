"""`--format ocsf`: failing findings as OCSF Detection Findings (class 2004, schema 1.3), one JSON array.

Every finding maps (finding_info: uid = fingerprint, title, analytic = the rule); log findings add what
the event said (actor, source address, API operation, event time) and the incident they belong to
(`finding_info.related_events`, `finding_info.uid` of the incident as `correlation_uid`). Evidence was
masked when the finding was made. https://schema.ocsf.io/1.3.0/classes/detection_finding
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from shareguard import __version__
from shareguard.catalog.model import Catalog
from shareguard.core.finding import Finding, Status
from shareguard.core.result import ScanResult
from shareguard.core.severity import Severity

OCSF_VERSION = "1.3.0"
CLASS_UID = 2004
CATEGORY_UID = 2
ACTIVITY_CREATE = 1
SEVERITY_ID = {
    Severity.UNKNOWN: 0,
    Severity.INFO: 1,
    Severity.LOW: 2,
    Severity.MEDIUM: 3,
    Severity.HIGH: 4,
    Severity.CRITICAL: 5,
}
CLOUD_OF_LOG = {"log:cloudtrail": "AWS", "log:gcp_audit": "GCP"}


class OcsfReporter:
    name = "ocsf"
    commands: frozenset[str] | None = None

    def render(self, result: ScanResult, catalog: Catalog) -> str:
        return json.dumps([detection_finding(f, result) for f in result.shown() if f.status is Status.FAIL], indent=2)


def _ms(iso: str | None, fallback: datetime) -> int:
    if iso:
        try:
            return int(datetime.fromisoformat(iso.replace("Z", "+00:00")).timestamp() * 1000)
        except ValueError:
            pass
    return int(fallback.timestamp() * 1000)


def detection_finding(f: Finding, result: ScanResult) -> dict[str, Any]:
    props = f.properties
    event_time = props.get("event_time") if isinstance(props.get("event_time"), str) else None
    when = _ms(event_time, result.started)
    info: dict[str, Any] = {
        "uid": f.fingerprint,
        "title": f.title,
        "desc": f.description or f.title,
        "types": list(f.control_ids),
        "created_time": int(result.finished.timestamp() * 1000),
        "first_seen_time": when,
        "last_seen_time": when,
        "analytic": {
            "uid": f.rule_id,
            "name": result.rules[f.rule_id].title if f.rule_id in result.rules else f.rule_id,
            "type_id": 1,
            "type": "Rule",
        },
        "product_uid": "shareguard",
    }
    tags = props.get("tags")
    if isinstance(tags, list):
        attacks = [t.split(".", 1)[1] for t in tags if isinstance(t, str) and t.startswith("attack.t")]
        if attacks:
            info["attacks"] = [{"technique": {"uid": a.upper()}, "version": "v14"} for a in attacks]
    out: dict[str, Any] = {
        "class_uid": CLASS_UID,
        "class_name": "Detection Finding",
        "category_uid": CATEGORY_UID,
        "category_name": "Findings",
        "activity_id": ACTIVITY_CREATE,
        "activity_name": "Create",
        "type_uid": CLASS_UID * 100 + ACTIVITY_CREATE,
        "time": when,
        "severity_id": SEVERITY_ID.get(f.severity, 0),
        "severity": f.severity.value.capitalize(),
        "status_id": 1,
        "status": "New",
        "is_alert": True,
        "message": f.evidence or f.title,
        "metadata": {
            "version": OCSF_VERSION,
            "product": {"name": "shareguard", "vendor_name": "shareguard", "version": __version__},
            "log_name": result.command,
        },
        "finding_info": info,
        "resources": [{"type": f.resource.type, "name": f.resource.name or f.resource.path, "uid": f.resource.path}],
        "remediation": {"desc": f.remediation.text},
        "unmapped": {
            "duties": list(f.control_ids),
            "analyzer": f.analyzer,
            "location": f.location.model_dump(exclude_none=True),
        },
    }
    incident = props.get("incident")
    if isinstance(incident, str):
        out["finding_info"]["related_events_count"] = props.get("count", 1)
        out["unmapped"]["incident"] = incident
        out["metadata"]["correlation_uid"] = incident
    actor = props.get("actor")
    if isinstance(actor, str):
        out["actor"] = {"user": {"name": actor, "uid": actor}}
    ip = props.get("source_ip")
    if isinstance(ip, str):
        out["src_endpoint"] = {"ip": ip}
    provider = CLOUD_OF_LOG.get(f.resource.type)
    if provider:
        out["cloud"] = {"provider": provider}
    return out
