"""Plugin registration: the sensitive-data file analyzer and its rules."""

from __future__ import annotations

from collections.abc import Iterable

from shareguard.core.analyzer import FileAnalyzer, RuleProvider
from shareguard.core.registry import Registries
from shareguard.core.rules import RuleMeta
from shareguard.sensitive.analyzer import SensitiveAnalyzer, rules


class SensitiveRules:
    name = "sensitive"

    def rules(self) -> Iterable[RuleMeta]:
        return rules().values()


def register(registries: Registries) -> None:
    analyzer = SensitiveAnalyzer()
    registries.of(FileAnalyzer).add(analyzer.name, analyzer)  # type: ignore[type-abstract]
    registries.of(RuleProvider).add("sensitive", SensitiveRules())  # type: ignore[type-abstract]
