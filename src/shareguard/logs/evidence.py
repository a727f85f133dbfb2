"""What a detection run hands the scan: findings, the evidence of what was evaluated, the gaps."""

from __future__ import annotations

from collections.abc import Iterator

from shareguard.core.analyzer import Output
from shareguard.core.context import ScanContext
from shareguard.core.coverage import Evaluation, Gap
from shareguard.logs.detect import Detection
from shareguard.logs.findings import ANALYZER, findings
from shareguard.logs.ruleset import MONITORING_DUTY, RuleSet

MAX_GAPS = 100
"""Unreadable parts listed as gaps per run (each is an issue too); one is enough to make the duty incomplete."""


def outputs(result: Detection, rules: RuleSet, ctx: ScanContext, name: str = ANALYZER) -> Iterator[Output]:
    """Findings per alert; for each input and log source seen, every rule that ran there as evaluated for the
    monitoring duty (resource `<input>#<log source>`); issues as errors (fatal) or warnings and gaps."""
    for n, issue in enumerate(result.issues):
        where = f"{issue.origin}:{issue.position}" if issue.position else issue.origin
        if issue.fatal:
            ctx.error(where, issue.message, name)
        else:
            ctx.warn(where, issue.message, name)
            if n < MAX_GAPS:
                yield Gap((MONITORING_DUTY,), where, issue.message)
    for origin, kinds in result.seen.items():
        for kind in kinds:
            resource = f"{origin}#{kind.value}"
            for info in rules.infos_of(kind):
                yield Evaluation(info.id, (MONITORING_DUTY,), resource)
    yield from findings(result.incidents)
    yield from findings(result.signals, signal=True)
