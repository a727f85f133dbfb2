"""Alerts deduplicated and grouped into incidents by principal and time proximity.

Deduplication: alerts of the same rule for the same principal and resource within the suppression
window (default 1 h) fold into the first one (`Alert.count`). Grouping: the alerts of one principal
whose times are at most `gap` apart (default 1 h) form one incident — an attack sequence (stop the trail,
open a bucket, create a key) is one incident, not three. Alerts without a principal group by resource.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any

from shareguard.core.severity import Severity
from shareguard.logs.evaluator import Alert
from shareguard.logs.masking import mask_event

SUPPRESS_SECONDS = 3600.0
GAP_SECONDS = 3600.0
MAX_EVIDENCE_EVENTS = 20
"""Events kept per alert of a correlation (the first ones); the count says how many there were."""


@dataclass(frozen=True)
class Incident:
    id: str
    actor: str
    start: float
    end: float
    severity: Severity
    alerts: tuple[Alert, ...]

    @property
    def duties(self) -> tuple[str, ...]:
        seen: dict[str, None] = {}
        for a in self.alerts:
            for d in a.rule.duties:
                seen.setdefault(d, None)
        return tuple(seen)

    @property
    def resources(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(a.resource for a in self.alerts if a.resource))

    @property
    def source_ips(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(a.source_ip for a in self.alerts if a.source_ip))

    @property
    def response(self) -> tuple[str, ...]:
        steps: dict[str, None] = {}
        for a in sorted(self.alerts, key=lambda a: -a.rule.severity.rank):
            for s in a.rule.response:
                steps.setdefault(s, None)
        return tuple(steps)

    def timeline(self) -> list[dict[str, Any]]:
        return [
            {
                "time": iso(a.time),
                "rule": a.rule.id,
                "title": a.rule.title,
                "severity": a.rule.severity.value,
                "action": a.action,
                "resource": a.resource,
                "source_ip": a.source_ip,
                "count": a.count,
                "origin": f"{a.event.origin}:{a.event.position}",
            }
            for a in self.alerts
        ]

    def evidence(self) -> list[dict[str, Any]]:
        """The events behind the alerts, secrets masked."""
        out: list[dict[str, Any]] = []
        for a in self.alerts:
            events = a.related[:MAX_EVIDENCE_EVENTS] if a.related else (a.event,)
            for e in events:
                out.append({"rule": a.rule.id, "origin": f"{e.origin}:{e.position}", "event": mask_event(e.data)})
        return out

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "actor": self.actor,
            "start": iso(self.start),
            "end": iso(self.end),
            "severity": self.severity.value,
            "duties": list(self.duties),
            "resources": list(self.resources),
            "source_ips": list(self.source_ips),
            "timeline": self.timeline(),
            "response": list(self.response),
            "evidence": self.evidence(),
        }


def iso(t: float) -> str | None:
    if math.isnan(t):
        return None
    return datetime.fromtimestamp(t, UTC).isoformat().replace("+00:00", "Z")


def deduplicate(alerts: Iterable[Alert], window: float = SUPPRESS_SECONDS) -> list[Alert]:
    """Fold repeats (same rule, principal, resource) within `window` seconds of the first."""
    kept: list[Alert] = []
    last: dict[tuple[str, str | None, str | None], int] = {}
    for a in sorted(alerts, key=_order):
        key = (a.rule.id, a.actor, a.resource)
        i = last.get(key)
        if i is not None:
            first = kept[i]
            if math.isnan(a.time) or math.isnan(first.time) or a.time - first.time <= window:
                kept[i] = replace(first, count=first.count + a.count)
                continue
        last[key] = len(kept)
        kept.append(a)
    return kept


def group(alerts: Iterable[Alert], gap: float = GAP_SECONDS) -> list[Incident]:
    """Incidents: per principal, alerts at most `gap` seconds apart; ordered by start time."""
    by_actor: dict[str, list[Alert]] = {}
    for a in sorted(alerts, key=_order):
        by_actor.setdefault(a.actor or a.resource or "unknown principal", []).append(a)
    incidents: list[Incident] = []
    for actor, items in by_actor.items():
        current: list[Alert] = []
        for a in items:
            if (
                current
                and not math.isnan(a.time)
                and not math.isnan(current[-1].time)
                and a.time - current[-1].time > gap
            ):
                incidents.append(_incident(actor, current))
                current = []
            current.append(a)
        if current:
            incidents.append(_incident(actor, current))
    return sorted(incidents, key=lambda i: (_nan_last(i.start), i.id))


def split(groups: list[Incident]) -> tuple[list[Incident], list[Incident]]:
    """(incidents, signals): a group whose alerts are all low or informational (a broad SigmaHQ rule such as
    "AssumeRole by a role" fires on every role session) opens no incident on its own; its alerts stay
    findings ("signals"). They join an incident when a more severe alert of the same principal is near."""
    incidents: list[Incident] = []
    signals: list[Incident] = []
    for g in groups:
        (incidents if any(a.rule.severity.rank > Severity.LOW.rank for a in g.alerts) else signals).append(g)
    return incidents, signals


def _incident(actor: str, alerts: list[Alert]) -> Incident:
    times = [a.time for a in alerts if not math.isnan(a.time)]
    start = min(times) if times else math.nan
    end = max(times) if times else math.nan
    digest = hashlib.blake2b(
        "\x00".join(
            [actor, str(start), *(f"{a.rule.id}@{a.event.origin}:{a.event.position}" for a in alerts)]
        ).encode(),
        digest_size=6,
    ).hexdigest()
    severity = max((a.rule.severity for a in alerts), key=lambda s: s.rank)
    if len({a.rule.id for a in alerts}) >= 3 and severity.rank < Severity.CRITICAL.rank:
        severity = Severity.CRITICAL if severity is Severity.HIGH else Severity.HIGH  # a sequence weighs more
    return Incident(f"INC-{digest}", actor, start, end, severity, tuple(alerts))


def _order(a: Alert) -> tuple[float, str, str]:
    return (_nan_last(a.time), a.event.origin, a.event.position)


def _nan_last(t: float) -> float:
    return math.inf if math.isnan(t) else t


def handoff(incident: Incident) -> str:
    """A plain-text report a customer can send the cloud provider's security team ("report incidents")."""
    lines = [
        f"Security incident report {incident.id}",
        "",
        f"Severity: {incident.severity.value}",
        f"Principal: {incident.actor}",
        f"Window: {iso(incident.start)} to {iso(incident.end)} (UTC)",
        f"Source addresses: {', '.join(incident.source_ips) or 'unknown'}",
        f"Affected resources: {', '.join(incident.resources) or 'unknown'}",
        "",
        "Timeline:",
    ]
    for row in incident.timeline():
        times = f" (x{row['count']})" if row["count"] > 1 else ""
        lines.append(f"  {row['time']}  {row['action']}  {row['title']}{times}  [{row['origin']}]")
    lines += ["", "Response steps taken or recommended:"]
    lines += [f"  - {s}" for s in incident.response]
    lines += [
        "",
        "Detected by shareguard from the audit logs named above; event evidence is attached with secrets masked.",
    ]
    return "\n".join(lines) + "\n"
