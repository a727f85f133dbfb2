"""One detection run: decode inputs, evaluate the rules, deduplicate and group alerts into incidents."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import BinaryIO

from shareguard.logs import ruleset
from shareguard.logs.evaluator import Alert, Evaluator
from shareguard.logs.events import LogEvent, LogIssue, LogKind
from shareguard.logs.incidents import GAP_SECONDS, SUPPRESS_SECONDS, Incident, deduplicate, group, split
from shareguard.logs.ingest import Decoder


@cache
def builtin_rules() -> ruleset.RuleSet:
    """The bundled rule pack, compiled once per process (it never changes at run time)."""
    return ruleset.load(ruleset.builtin_rule_files(), builtin=True)


@cache
def sigmahq_rules(cache_dir: Path | None) -> ruleset.RuleSet:
    """SigmaHQ's rules from the snapshot in use (the user's updated one, else the bundled one), compiled
    once per process; only called when a log is read."""
    from shareguard.logs import sigmahq

    return ruleset.load(sigmahq.rule_files(sigmahq.active_dir(cache_dir)), label="sigmahq")


def default_rules(*, sigmahq: bool = True, cache_dir: Path | None = None) -> ruleset.RuleSet:
    """The built-in pack plus (unless turned off) SigmaHQ's bundled cloud and Kubernetes rules."""
    if not sigmahq:
        return builtin_rules()
    return ruleset.merge(builtin_rules(), sigmahq_rules(cache_dir))


@dataclass
class Detection:
    """What a run saw and found."""

    events: dict[LogKind, int] = field(default_factory=dict)
    alerts: list[Alert] = field(default_factory=list)
    incidents: list[Incident] = field(default_factory=list)
    signals: list[Incident] = field(default_factory=list)
    """Groups of low/informational alerts only: findings, not incidents (see incidents.split)."""
    issues: list[LogIssue] = field(default_factory=list)
    inputs: list[str] = field(default_factory=list)
    seen: dict[str, set[LogKind]] = field(default_factory=dict)
    """Per input, the log sources it held events of (what the rules were evaluated on)."""


class Detector:
    """Feeds inputs through one evaluator (correlation state spans inputs) and collects the results."""

    def __init__(self, rules: ruleset.RuleSet, *, suppress: float = SUPPRESS_SECONDS, gap: float = GAP_SECONDS) -> None:
        self.rules = rules
        self.evaluator = Evaluator(rules)
        self.suppress = suppress
        self.gap = gap
        self.result = Detection()

    def feed(self, origin: str, stream: BinaryIO) -> list[Alert]:
        """Decode and evaluate one input; returns its alerts (also kept for `finish`)."""
        decoder = Decoder(origin)
        alerts = list(self.evaluator.alerts(decoder.events(stream)))
        self._account(origin, decoder)
        self.result.alerts.extend(alerts)
        return alerts

    def feed_events(self, origin: str, events: Iterable[LogEvent]) -> list[Alert]:
        counted = _Counted(events)
        alerts = list(self.evaluator.alerts(counted))
        self.result.inputs.append(origin)
        if counted.kinds:
            self.result.seen.setdefault(origin, set()).update(counted.kinds)
            for kind, n in counted.kinds.items():
                self.result.events[kind] = self.result.events.get(kind, 0) + n
        self.result.alerts.extend(alerts)
        return alerts

    def _account(self, origin: str, decoder: Decoder) -> None:
        self.result.inputs.append(origin)
        self.result.issues.extend(decoder.issues)
        for kind, n in decoder.counts.items():
            self.result.events[kind] = self.result.events.get(kind, 0) + n
            if n:
                self.result.seen.setdefault(origin, set()).add(kind)

    def finish(self) -> Detection:
        deduped = deduplicate(self.result.alerts, self.suppress)
        self.result.alerts = deduped
        self.result.incidents, self.result.signals = split(group(deduped, self.gap))
        return self.result

    def take(self) -> Detection:
        """`finish` what was fed since the last `take`, and start afresh; correlation windows carry over."""
        done = self.finish()
        self.result = Detection()
        return done


class _Counted:
    """Counts the events of each log source as they pass."""

    def __init__(self, events: Iterable[LogEvent]) -> None:
        self._events = events
        self.kinds: dict[LogKind, int] = {}

    def __iter__(self) -> Iterator[LogEvent]:
        kinds = self.kinds
        for e in self._events:
            kinds[e.kind] = kinds.get(e.kind, 0) + 1
            yield e


def incidents_of(alerts: list[Alert]) -> Iterator[tuple[Incident, Alert]]:
    for incident in group(deduplicate(alerts)):
        for alert in incident.alerts:
            yield incident, alert
