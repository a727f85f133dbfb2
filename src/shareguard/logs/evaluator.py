"""Evaluate compiled rules over events: each event meets only the rules its index value can match.

Per log source the rules are indexed by the lower-cased values of the index field (eventName,
methodName, verb) they require (`CompiledRule.index`); rules that require none are tried on every
event of that source. The table maps each value straight to the tuple of rules to try, so an event
costs one field read, one `lower()` and one dict lookup before any rule runs.

Correlation rules (event_count, value_count, temporal, temporal_ordered) keep, per group-by key, the
base matches inside their time span (by event time); state is bounded by the span, not the input.
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from shareguard.logs.events import LogEvent, LogKind
from shareguard.logs.fields import ARRAYS, MISSING, FieldMap, field_maps, getter, materialise, text
from shareguard.logs.ruleset import CompiledRule, Correlation, RuleInfo, RuleSet


@dataclass(frozen=True, slots=True)
class Alert:
    """A rule matched: the event (for a correlation: the events) that made it fire."""

    rule: RuleInfo
    event: LogEvent
    time: float
    """Event time as POSIX seconds (NaN when the event has none)."""
    actor: str | None
    resource: str | None
    source_ip: str | None
    action: str | None
    related: tuple[LogEvent, ...] = ()
    """For a correlation: the base events inside its window."""
    count: int = 1
    """How many identical alerts (same rule, actor, resource) the suppression window folded into this one."""


class _Index:
    """Per log source: for each index field, its lower-cased values → the rules that require them."""

    def __init__(self, fm: FieldMap, rules: list[CompiledRule]) -> None:
        self.always = tuple(r for r in rules if r.index is None)
        tables: dict[str, dict[str, list[CompiledRule]]] = {path: {} for path in fm.index}
        for r in rules:
            if r.index is not None:
                path, values = r.index
                for value in values:
                    tables[path].setdefault(value, []).append(r)
        # The first field's table also carries the unindexed rules: the common event costs one lookup.
        first = fm.index[0]
        order = {id(r): i for i, r in enumerate(rules)}
        self.first = getter(first)
        self.first_table = {
            k: tuple(sorted((*self.always, *v), key=lambda r: order[id(r)])) for k, v in tables.pop(first).items()
        }
        self.others = tuple(
            (getter(path), {k: tuple(v) for k, v in table.items()}) for path, table in tables.items() if table
        )

    def candidates(self, data: dict[str, Any]) -> tuple[CompiledRule, ...]:
        key = self.first(data)
        found = self.first_table.get(key.lower(), self.always) if type(key) is str else self.always
        for get, table in self.others:
            key = get(data)
            if type(key) is str:
                more = table.get(key.lower())
                if more:
                    found = (*found, *more)
        return found


@dataclass
class _Window:
    events: deque[tuple[float, str, Any, LogEvent]] = field(default_factory=deque)


class Evaluator:
    """Runs a rule set over events; `matches` is the hot path, `alerts` adds correlation and context."""

    def __init__(self, ruleset: RuleSet) -> None:
        self.ruleset = ruleset
        maps = field_maps()
        self.maps = maps
        self._index = {kind: _Index(maps[kind], [r for r in ruleset.rules if r.kind is kind]) for kind in maps}
        self._context = {kind: _Context(maps[kind]) for kind in maps}
        self._corr_of: dict[str, list[Correlation]] = {}
        for c in ruleset.correlations:
            for rid in set(c.rules):
                self._corr_of.setdefault(rid, []).append(c)
        self._windows: dict[tuple[str, tuple[str | None, ...]], _Window] = {}
        self._group_getters = {
            c.info.id: tuple(getter(maps[c.kind].path(f)) for f in c.group_by) for c in ruleset.correlations
        }
        self._value_getters = {
            c.info.id: getter(maps[c.kind].path(c.value_field)) for c in ruleset.correlations if c.value_field
        }
        self.events = 0
        self.per_kind: dict[LogKind, int] = {}

    def matches(self, event: LogEvent) -> list[CompiledRule]:
        """The base rules `event` matches."""
        data = event.data
        return [r for r in self._index[event.kind].candidates(data) if r.match(data)]

    def alerts(self, events: Iterable[LogEvent]) -> Iterator[Alert]:
        """Alerts of base rules (those that alert) and of correlations, in event order."""
        index = self._index
        per_kind = self.per_kind
        corr_of = self._corr_of
        n = 0
        for event in events:
            n += 1
            kind = event.kind
            per_kind[kind] = per_kind.get(kind, 0) + 1
            data = event.data
            plain = type(data) is dict
            for rule in index[kind].candidates(data):
                if not rule.match(data):
                    continue
                if not plain:  # a lazily decoded event: a plain dict from here on (alerts keep it)
                    event = LogEvent(kind, materialise(data), event.origin, event.position)
                    data, plain = event.data, True
                if rule.alerts:
                    yield self._context[kind].alert(rule.info, event)
                corrs = corr_of.get(rule.info.id)
                if corrs:
                    for c in corrs:
                        alert = self._correlate(c, rule, event)
                        if alert is not None:
                            yield alert
        self.events += n

    def alert_for(self, info: RuleInfo, event: LogEvent, related: tuple[LogEvent, ...] = ()) -> Alert:
        """The alert of `info` on `event` (with its time, principal, resource… read from the event)."""
        return self._context[event.kind].alert(info, event, related)

    def correlations_of(self, rule_id: str) -> list[Correlation]:
        """The correlation rules that count matches of base rule `rule_id`."""
        return self._corr_of.get(rule_id, [])

    def correlate(self, c: Correlation, rule_id: str, event: LogEvent) -> Alert | None:
        """Feed one match of base rule `rule_id` to correlation `c` (in event-time order per group)."""
        return self._correlate_id(c, rule_id, event)

    def group_key(self, c: Correlation, event: LogEvent) -> tuple[str | None, ...]:
        return tuple(text(g(event.data)) for g in self._group_getters[c.info.id])

    def _correlate(self, c: Correlation, rule: CompiledRule, event: LogEvent) -> Alert | None:
        return self._correlate_id(c, rule.info.id, event)

    def _correlate_id(self, c: Correlation, rule_id: str, event: LogEvent) -> Alert | None:
        ctx = self._context[c.kind]
        when = ctx.time(event.data)
        if math.isnan(when):
            return None
        key = (c.info.id, self.group_key(c, event))
        window = self._windows.get(key)
        if window is None:
            window = self._windows[key] = _Window()
        value_get = self._value_getters.get(c.info.id)
        value = text(value_get(event.data)) if value_get is not None else None
        q = window.events
        q.append((when, rule_id, value, event))
        while q and q[0][0] < when - c.seconds:
            q.popleft()
        if not _fires(c, q):
            return None
        related = tuple(e for _, _, _, e in q)
        q.clear()
        del self._windows[key]
        return ctx.alert(c.info, event, related)


def _fires(c: Correlation, q: deque[tuple[float, str, Any, LogEvent]]) -> bool:
    if c.type == "event_count":
        return _compare(len(q), c.op, c.count)
    if c.type == "value_count":
        return _compare(len({v for _, _, v, _ in q if v is not None}), c.op, c.count)
    if c.type == "temporal":
        return set(c.rules) <= {r for _, r, _, _ in q}
    # temporal_ordered: the base rules matched in their order inside the window
    want = iter(c.rules)
    nxt = next(want, None)
    for _, r, _, _ in q:
        if r == nxt:
            nxt = next(want, None)
            if nxt is None:
                return True
    return False


def _compare(n: float, op: str, bound: float) -> bool:
    if op == "gte":
        return n >= bound
    if op == "gt":
        return n > bound
    if op == "eq":
        return n == bound
    if op == "lte":
        return n <= bound
    if op == "lt":
        return n < bound
    return n != bound


class _Context:
    """Reads an event's time, actor, resource, source address and action (fieldmap.yaml)."""

    def __init__(self, fm: FieldMap) -> None:
        self._time = getter(fm.time)
        self._actors = tuple(getter(p) for p in fm.actor)
        self._resources = tuple(getter(p) for p in fm.resource)
        self._ip = getter(fm.source_ip)
        self._action = getter(fm.action)

    def time(self, data: dict[str, Any]) -> float:
        return parse_time(self._time(data))

    def alert(self, info: RuleInfo, event: LogEvent, related: tuple[LogEvent, ...] = ()) -> Alert:
        data = event.data
        return Alert(
            rule=info,
            event=event,
            time=self.time(data),
            actor=_first(self._actors, data),
            resource=_first(self._resources, data),
            source_ip=_first((self._ip,), data),
            action=_first((self._action,), data),
            related=related,
        )


def _first(getters: tuple[Any, ...], data: dict[str, Any]) -> str | None:
    for g in getters:
        v = g(data)
        if type(v) in ARRAYS:
            v = v[0] if v else MISSING
        t = text(v)
        if t:
            return t
    return None


def parse_time(value: Any) -> float:
    """An RFC 3339 timestamp as POSIX seconds (nanosecond fractions cut to microseconds); NaN if none."""
    if type(value) is not str or len(value) < 10:
        return math.nan
    s = value.strip()
    if s.endswith(("Z", "z")):
        s = s[:-1] + "+00:00"
    dot = s.find(".")
    if dot > 0:
        end = dot + 1
        while end < len(s) and s[end].isdigit():
            end += 1
        s = s[: dot + 1] + s[dot + 1 : min(end, dot + 7)].ljust(6, "0") + s[end:]
    try:
        dt = datetime.fromisoformat(s)
    except ValueError:
        return math.nan
    if dt.tzinfo is None:
        return dt.replace(tzinfo=UTC).timestamp()
    return dt.timestamp()
