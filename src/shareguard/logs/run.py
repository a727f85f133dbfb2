"""`shareguard logs` as a library call: inputs → detection → a ScanResult every report format reads."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from shareguard.core.context import ScanContext
from shareguard.core.engine import consume
from shareguard.core.errors import ConfigError, ShareguardError
from shareguard.core.finding import Finding
from shareguard.core.result import ScanResult
from shareguard.core.rules import RuleMeta
from shareguard.core.settings import Settings
from shareguard.logs import ruleset
from shareguard.logs.detect import Detection, Detector, builtin_rules, sigmahq_rules
from shareguard.logs.evidence import outputs
from shareguard.logs.incidents import GAP_SECONDS, SUPPRESS_SECONDS, Incident
from shareguard.logs.inputs import Input, expand
from shareguard.logs.ruleset import RuleSet

SCHEMA_KEY = "logs"


@dataclass(frozen=True)
class LogOptions:
    rules: tuple[Path, ...] = ()
    """Sigma folders or files loaded besides (or instead of) the built-in pack."""
    builtin: bool = True
    sigmahq: bool = True
    """Evaluate SigmaHQ's bundled cloud and Kubernetes rules (the snapshot in use) with the built-in pack."""
    cache_dir: Path | None = None
    """Where `logs rules update` put the user's SigmaHQ snapshot (None: the bundled one only)."""
    suppress_seconds: float = SUPPRESS_SECONDS
    gap_seconds: float = GAP_SECONDS


def load_rules(options: LogOptions) -> RuleSet:
    """The built-in pack and SigmaHQ's snapshot (each unless turned off) plus every `--rules` folder or file."""
    files: list[Path] = []
    for p in options.rules:
        if p.is_dir():
            files.extend(ruleset.rule_files(p))
        elif p.is_file():
            files.append(p)
        else:
            raise ConfigError("no such rule file or folder", path=str(p))
    extra = ruleset.load(files) if files else RuleSet()
    base = builtin_rules() if options.builtin else RuleSet()
    if options.sigmahq:
        base = ruleset.merge(base, sigmahq_rules(options.cache_dir))
    merged = ruleset.merge(base, extra)
    if not merged.rules and not merged.correlations:
        raise ConfigError("no rule to evaluate (--no-builtin, --no-sigmahq and no usable --rules)")
    return merged


@dataclass
class LogRun:
    result: ScanResult
    detection: Detection
    rules: RuleSet
    incidents: list[Incident] = field(default_factory=list)


def detect(
    inputs: Iterable[Input], rules: RuleSet, options: LogOptions, ctx: ScanContext
) -> tuple[Detection, list[str]]:
    """Evaluate every input; an input that cannot be opened is an error for it and the rest goes on."""
    detector = Detector(rules, suppress=options.suppress_seconds, gap=options.gap_seconds)
    failed: list[str] = []
    for item in inputs:
        try:
            with item.open() as fh:
                detector.feed(item.origin, fh)
        except (OSError, ShareguardError) as exc:
            message = exc.message if isinstance(exc, ShareguardError) else f"cannot read: {exc}"
            ctx.error(item.origin, message, "logs.sigma")
            failed.append(item.origin)
    return detector.finish(), failed


def run_logs(targets: list[str], options: LogOptions, settings: Settings | None = None) -> LogRun:
    started = datetime.now(UTC)
    rules = load_rules(options)
    ctx = ScanContext(settings=settings or Settings.from_env(), command="logs")
    ctx.coverage.scopes["logs.sigma"] = (ruleset.MONITORING_DUTY,)
    detection, _ = detect(expand(targets), rules, options, ctx)
    return finish(targets, started, rules, detection, ctx)


def finish(targets: list[str], started: datetime, rules: RuleSet, detection: Detection, ctx: ScanContext) -> LogRun:
    findings: list[Finding] = []
    consume(outputs(detection, rules, ctx), findings, ctx)
    for u in rules.unsupported:
        ctx.warn(u.origin, f"rule not evaluated: {u.title}: {u.reason}", "logs.sigma")
    ctx.metadata[SCHEMA_KEY] = summary(detection, rules)
    result = ScanResult(
        command="logs",
        target=" ".join(targets),
        started=started,
        finished=datetime.now(UTC),
        findings=findings,
        facts=ctx.facts,
        coverage=ctx.coverage,
        issues=list(ctx.issues),
        rules={m.id: m for m in rule_metas(rules)},
        metadata=dict(ctx.metadata),
    )
    return LogRun(result, detection, rules, detection.incidents)


def summary(detection: Detection, rules: RuleSet) -> dict[str, object]:
    """The `logs` block of the JSON report's metadata: events and rules per log source, incidents."""
    return {
        "events": {k.value: n for k, n in sorted(detection.events.items())},
        "rules": {k.value: rules.count(k) for k in sorted(detection.events)},
        "inputs": len(detection.inputs),
        "alerts": len(detection.alerts),
        "incidents": [i.to_dict() for i in detection.incidents],
        "unsupported_rules": [{"origin": u.origin, "title": u.title, "reason": u.reason} for u in rules.unsupported],
    }


def rule_metas(rules: RuleSet) -> Iterable[RuleMeta]:
    for info in rules.infos():
        yield RuleMeta(
            id=info.id,
            title=info.title,
            severity=info.severity,
            control_ids=info.duties,
            description=info.description,
            remediation=info.remediation,
            references=info.references,
            tags=("logs", *info.tags),
        )
