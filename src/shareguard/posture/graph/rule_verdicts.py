"""The verdict a cross-resource rule leaves on one resource once its findings are out.

Every graph rule ends its judgement of a resource the same way, rule by rule: a failed rule says nothing more
(its findings are the verdict); an unresolved one is a `Gap` with the reason (its duty incomplete, never
passed); any other is an `Evaluation` of the resource, when something was really evaluated.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Iterator, Mapping

from shareguard.core.analyzer import Output
from shareguard.core.coverage import Evaluation, Gap
from shareguard.core.rules import RuleMeta


def rule_verdicts(
    rules: Mapping[str, RuleMeta],
    rule_ids: Iterable[str],
    *,
    where: str,
    resource: str,
    failed: Collection[str] = (),
    unresolved: Mapping[str, str] | None = None,
    evaluated: bool = True,
) -> Iterator[Output]:
    """Per rule of `rule_ids`: nothing if it `failed`; a `Gap` at `where` if `unresolved` names why; else an
    `Evaluation` of `resource` (its coverage key) if anything was `evaluated`."""
    why = unresolved or {}
    for rid in rule_ids:
        if rid in failed:
            continue
        if rid in why:
            yield Gap(rules[rid].control_ids, where, f"{rid} unresolved: {why[rid]}")
        elif evaluated:
            yield Evaluation(rid, rules[rid].control_ids, resource)
