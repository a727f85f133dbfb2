"""Plugin registration: the audit-log analyzer, the built-in log rules, and the OCSF report format."""

from __future__ import annotations

from shareguard.core.analyzer import FileAnalyzer, RuleProvider
from shareguard.core.registry import Registries
from shareguard.logs.analyzer import LogAnalyzer
from shareguard.logs.rulemeta import LogRules
from shareguard.report.interface import Reporter
from shareguard.report.ocsf import OcsfReporter


def register(registries: Registries) -> None:
    analyzer = LogAnalyzer()
    registries.of(FileAnalyzer).add(analyzer.name, analyzer)  # type: ignore[type-abstract]
    registries.of(RuleProvider).add("logs", LogRules())  # type: ignore[type-abstract]
    # OCSF Detection Findings: the format SIEMs and security lakes ingest alerts in (any command's findings).
    registries.of(Reporter).add("ocsf", OcsfReporter())  # type: ignore[type-abstract]
