"""Registers the built-in report formats (one reporter per `--format` value)."""

from __future__ import annotations

from shareguard.core.registry import Registries
from shareguard.report.interface import Reporter
from shareguard.report.json_report import JsonReporter
from shareguard.report.lazy import LazyReporter, LazyTerminalReporter


def register(registries: Registries) -> None:
    reporters = registries.of(Reporter)  # type: ignore[type-abstract]
    reporters.add("table", LazyTerminalReporter("table", "shareguard.report.table:TableReporter"))
    reporters.add("json", JsonReporter())
    reporters.add("sarif", LazyReporter("sarif", "shareguard.report.sarif:SarifReporter"))
    reporters.add("html", LazyReporter("html", "shareguard.report.html:HtmlReporter"))
