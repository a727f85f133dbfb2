"""Incidents as sink messages."""

from __future__ import annotations

from shareguard.logs.incidents import Incident, handoff
from shareguard.logs.sinks.base import Message


def message(incident: Incident) -> Message:
    worst = max(incident.alerts, key=lambda a: a.rule.severity.rank)
    n = len(incident.alerts)
    title = f"{worst.rule.title}" + (f" and {n - 1} more alert(s)" if n > 1 else "") + f" by {incident.actor}"
    return Message(incident.id, incident.severity.value, title, incident.to_dict(), handoff(incident))
