"""The evaluator as an Apache Beam pipeline (`shareguard logs --runner DirectRunner …`), for log volumes one
machine cannot hold: the same rules, the same alerts, the same incidents as the plain run.

Stages: the inputs (one element per file or object) → decode and match the base rules on workers (only
matches leave the worker) → correlation rules keyed by (correlation, group-by values), each group replayed in
event-time order on a worker → results written as JSON lines, read back by the driver, which deduplicates and
groups them into incidents exactly as the plain run does. Workers compile the rules themselves (`setup`),
from the same options, so nothing unpicklable travels. Inputs must be readable by the workers (paths on a
shared file system, or object-store URLs).
"""

from __future__ import annotations

import importlib
import math
import tempfile
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson

from shareguard.core.context import ScanContext
from shareguard.core.errors import ConfigError, ShareguardError
from shareguard.core.settings import Settings
from shareguard.logs import ruleset
from shareguard.logs.detect import Detection
from shareguard.logs.evaluator import Alert, Evaluator, parse_time
from shareguard.logs.events import LogEvent, LogIssue, LogKind
from shareguard.logs.fields import materialise
from shareguard.logs.incidents import deduplicate, group, split
from shareguard.logs.ingest import Decoder
from shareguard.logs.inputs import Input, expand
from shareguard.logs.run import LogOptions, LogRun, finish, load_rules


def _event_json(e: LogEvent) -> dict[str, Any]:
    return {"kind": e.kind.value, "origin": e.origin, "position": e.position, "data": materialise(e.data)}


def _event_of(d: dict[str, Any]) -> LogEvent:
    return LogEvent(LogKind(d["kind"]), d["data"], d["origin"], d["position"])


def _open(origin: str) -> Input:
    items = list(expand([origin]))
    if len(items) != 1:
        raise ConfigError("input changed between listing and reading", path=origin)
    return items[0]


def evaluate_input(origin: str, evaluator: Evaluator) -> Iterator[tuple[str, Any]]:
    """Decode one input and match its events: ("alert", …), ("corr", ((corr id, group), entry)), ("count", …),
    ("issue", …). Runs on a worker."""
    decoder = Decoder(origin)
    try:
        with _open(origin).open() as fh:
            for event in decoder.events(fh):
                for rule in evaluator.matches(event):
                    if rule.alerts:
                        yield "alert", {"rule": rule.info.id, "event": _event_json(event)}
                    for c in evaluator.correlations_of(rule.info.id):
                        key = orjson.dumps([c.info.id, list(evaluator.group_key(c, event))]).decode()
                        yield "corr", (key, {"rule": rule.info.id, "event": _event_json(event)})
    except (OSError, ShareguardError) as exc:
        message = exc.message if isinstance(exc, ShareguardError) else f"cannot read: {exc}"
        decoder.issues.append(LogIssue(origin, None, message, True))
    for kind, n in decoder.counts.items():
        yield "count", {"origin": origin, "kind": kind.value, "n": n}
    for issue in decoder.issues:
        yield (
            "issue",
            {"origin": issue.origin, "position": issue.position, "message": issue.message, "fatal": issue.fatal},
        )


def correlate_group(key: str, entries: list[dict[str, Any]], evaluator: Evaluator) -> Iterator[dict[str, Any]]:
    """One correlation group's matches, replayed in event-time order (as the plain run sees them)."""
    corr_id = orjson.loads(key)[0]
    corr = next(c for c in evaluator.ruleset.correlations if c.info.id == corr_id)
    events = [(e["rule"], _event_of(e["event"])) for e in entries]
    fm = evaluator.maps[corr.kind]
    events.sort(key=lambda re: (_time(re[1], fm.time), re[1].origin, _position_key(re[1].position)))
    for rule_id, event in events:
        alert = evaluator.correlate(corr, rule_id, event)
        if alert is not None:
            yield {"rule": corr_id, "event": _event_json(event), "related": [_event_json(r) for r in alert.related]}


def _time(event: LogEvent, path: str) -> float:
    cur: Any = event.data
    for part in path.split("."):
        cur = cur.get(part) if isinstance(cur, dict) else None
    t = parse_time(cur)
    return math.inf if math.isnan(t) else t


def _position_key(position: str) -> tuple[str, int]:
    head, _, tail = position.rpartition(" ")
    return (head, int(tail)) if tail.isdigit() else (position, 0)


def run_beam(targets: list[str], options: LogOptions, runner: str, settings: Settings | None = None) -> LogRun:
    try:
        # Untyped for mypy whether Beam is installed or not (it ships no complete annotations).
        beam: Any = importlib.import_module("apache_beam")
        pipeline_options: Any = importlib.import_module("apache_beam.options.pipeline_options")
    except ImportError:
        raise ConfigError("--runner needs Apache Beam: pip install 'shareguard[beam]'") from None
    started = datetime.now(UTC)
    settings = settings or Settings.from_env()
    rules = load_rules(options)  # in the driver too: a bad --rules fails before the pipeline starts
    origins = [i.origin for i in expand(targets)]

    class Evaluate(beam.DoFn):  # type: ignore[misc]  # a base class of type Any
        def setup(self) -> None:
            self.evaluator = Evaluator(load_rules(options))

        def process(self, origin: str) -> Iterator[Any]:
            for tag, value in evaluate_input(origin, self.evaluator):
                yield beam.pvalue.TaggedOutput(tag, value)

    class Correlate(beam.DoFn):  # type: ignore[misc]  # a base class of type Any
        def setup(self) -> None:
            self.evaluator = Evaluator(load_rules(options))

        def process(self, element: tuple[str, list[dict[str, Any]]]) -> Iterator[dict[str, Any]]:
            key, entries = element
            yield from correlate_group(key, list(entries), Evaluator(self.evaluator.ruleset))

    settings.cache_dir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="logs-beam-", dir=settings.cache_dir) as tmp:
        out = Path(tmp) / "out"
        with beam.Pipeline(runner=runner, options=pipeline_options.PipelineOptions([])) as p:
            tagged = (
                p
                | "inputs" >> beam.Create(origins)
                | "reshuffle" >> beam.Reshuffle()
                | "evaluate" >> beam.ParDo(Evaluate()).with_outputs("alert", "corr", "count", "issue")
            )
            corr_alerts = tagged.corr | "group" >> beam.GroupByKey() | "correlate" >> beam.ParDo(Correlate())
            rows = (
                (
                    tagged.alert | "a" >> beam.Map(lambda v: ["alert", v]),
                    corr_alerts | "c" >> beam.Map(lambda v: ["alert", v]),
                    tagged.count | "n" >> beam.Map(lambda v: ["count", v]),
                    tagged.issue | "i" >> beam.Map(lambda v: ["issue", v]),
                )
                | "flatten" >> beam.Flatten()
                | "json" >> beam.Map(lambda row: orjson.dumps(row).decode())
            )
            _ = rows | "write" >> beam.io.WriteToText(str(out), file_name_suffix=".jsonl")
        detection = _collect(sorted(Path(tmp).glob("out*.jsonl")), rules, options)
    ctx = ScanContext(settings=settings, command="logs")
    ctx.coverage.scopes["logs.sigma"] = (ruleset.MONITORING_DUTY,)
    ctx.metadata["runner"] = runner
    return finish(targets, started, rules, detection, ctx)


def _collect(files: list[Path], rules: ruleset.RuleSet, options: LogOptions) -> Detection:
    evaluator = Evaluator(rules)
    infos = {i.id: i for i in rules.infos()}
    result = Detection()
    alerts: list[Alert] = []
    for f in files:
        with f.open("rb") as fh:
            for line in fh:
                tag, value = orjson.loads(line)
                if tag == "alert":
                    related = tuple(_event_of(r) for r in value.get("related", ()))
                    alerts.append(evaluator.alert_for(infos[value["rule"]], _event_of(value["event"]), related))
                elif tag == "count":
                    kind = LogKind(value["kind"])
                    result.events[kind] = result.events.get(kind, 0) + value["n"]
                    result.seen.setdefault(value["origin"], set()).add(kind)
                    if value["origin"] not in result.inputs:
                        result.inputs.append(value["origin"])
                elif tag == "issue":
                    result.issues.append(LogIssue(value["origin"], value["position"], value["message"], value["fatal"]))
    result.issues.sort(key=lambda i: (i.origin, i.position or ""))
    result.alerts = deduplicate(alerts, options.suppress_seconds)
    result.incidents, result.signals = split(group(result.alerts, options.gap_seconds))
    return result
