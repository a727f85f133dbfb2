"""Registers the built-in report formats (one reporter per `--format` value)."""

from __future__ import annotations

from shareguard.core.registry import Registries
from shareguard.report.html import HtmlReporter
from shareguard.report.interface import Reporter
from shareguard.report.json_report import JsonReporter
from shareguard.report.sarif import SarifReporter
from shareguard.report.table import TableReporter


def register(registries: Registries) -> None:
    reporters = registries.of(Reporter)  # type: ignore[type-abstract]
    reporters.add("table", TableReporter())
    reporters.add("json", JsonReporter())
    reporters.add("sarif", SarifReporter())
    reporters.add("html", HtmlReporter())
