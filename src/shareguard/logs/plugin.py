"""Plugin registration: the audit-log analyzer and the built-in log rules."""

from __future__ import annotations

from shareguard.core.analyzer import FileAnalyzer, RuleProvider
from shareguard.core.registry import Registries
from shareguard.logs.analyzer import LogAnalyzer
from shareguard.logs.rulemeta import LogRules


def register(registries: Registries) -> None:
    analyzer = LogAnalyzer()
    registries.of(FileAnalyzer).add(analyzer.name, analyzer)  # type: ignore[type-abstract]
    registries.of(RuleProvider).add("logs", LogRules())  # type: ignore[type-abstract]
