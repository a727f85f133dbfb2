"""This capability's rule metadata (data in rules.yaml) and the RuleProvider that publishes it."""

from __future__ import annotations

from collections.abc import Iterable
from functools import lru_cache

from shareguard.core.rules import RuleMeta, load_package_rules


@lru_cache(maxsize=1)
def freshness_rules() -> dict[str, RuleMeta]:
    return load_package_rules("shareguard.freshness", "rules.yaml")


def rule(rule_id: str) -> RuleMeta:
    return freshness_rules()[rule_id]


class FreshnessRules:
    name = "freshness"

    def rules(self) -> Iterable[RuleMeta]:
        return freshness_rules().values()
