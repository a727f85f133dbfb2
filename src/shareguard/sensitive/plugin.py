"""Plugin registration: the sensitive-data file analyzer and its rules."""

from __future__ import annotations

from collections.abc import Iterable

from shareguard.core.analyzer import FileAnalyzer, RuleProvider
from shareguard.core.registry import Registries
from shareguard.core.rules import RuleMeta
from shareguard.sensitive.analyzer import SensitiveAnalyzer, rules
from shareguard.sensitive.options import SensitiveOptions


class SensitiveRules:
    name = "sensitive"

    def rules(self) -> Iterable[RuleMeta]:
        return rules().values()


def register(registries: Registries, options: SensitiveOptions | None = None) -> None:
    """The analyzer with the scan's options where a command sets them at the start (`shareguard data`: every
    file is claimed, not only data, code and secret-prone files); otherwise it reads them per scan."""
    analyzer = SensitiveAnalyzer(options=options)
    registries.of(FileAnalyzer).add(analyzer.name, analyzer)  # type: ignore[type-abstract]
    registries.of(RuleProvider).add("sensitive", SensitiveRules())  # type: ignore[type-abstract]
