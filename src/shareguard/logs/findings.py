"""Alerts and incidents as shareguard findings (one per deduplicated alert, naming its incident)."""

from __future__ import annotations

from collections.abc import Iterator

from shareguard.core.finding import Finding, Remediation, SeveritySource, build_finding
from shareguard.core.resource import Location, Resource
from shareguard.logs.evaluator import Alert
from shareguard.logs.incidents import Incident, iso
from shareguard.logs.names import ANALYZER as ANALYZER  # re-exported


def findings(
    incidents: list[Incident], path_of: dict[str, str] | None = None, *, signal: bool = False
) -> Iterator[Finding]:
    """`path_of` maps an input's origin to the path reports show (the workspace-relative path); `signal`:
    the groups are low-severity signals, not incidents (incidents.split)."""
    for incident in incidents:
        for alert in incident.alerts:
            yield finding(alert, incident, (path_of or {}).get(alert.event.origin, alert.event.origin), signal)


def finding(alert: Alert, incident: Incident, path: str, signal: bool = False) -> Finding:
    info = alert.rule
    event = alert.event
    when = iso(alert.time) or "unknown time"
    who = alert.actor or "unknown principal"
    evidence = f"{alert.action or '?'} by {who} at {when}" + (f" from {alert.source_ip}" if alert.source_ip else "")
    if alert.count > 1:
        evidence += f" ({alert.count} times within the suppression window)"
    if alert.related:
        evidence += f" ({len(alert.related)} events correlated)"
    record = event.data.get("eventID") or event.data.get("insertId") or event.data.get("auditID")
    return build_finding(
        rule_id=info.id,
        control_ids=info.duties,
        severity=info.severity,
        severity_source=SeveritySource.RULE,
        title=f"{info.title} (low-severity signal, no incident)"
        if signal
        else f"{info.title} (incident {incident.id})",
        description=info.description or None,
        resource=Resource(type=f"log:{event.kind.value}", path=path, name=alert.resource or who),
        location=Location(record=str(record) if record else event.position),
        evidence=evidence,
        remediation=Remediation(text=info.remediation),
        analyzer=ANALYZER,
        properties={
            "incident": None if signal else incident.id,
            "incident_severity": None if signal else incident.severity.value,
            "actor": alert.actor,
            "event_time": iso(alert.time),
            "source_ip": alert.source_ip,
            "log_source": event.kind.value,
            "position": event.position,
            "sigma_id": info.sigma_id,
            "tags": list(info.tags),
            "count": alert.count,
            "fingerprint_key": f"{info.id}|{who}|{alert.resource}|{event.position}",
        },
    )
