"""Registers the built-in report formats."""

from __future__ import annotations

from shareguard.core.registry import Registries
from shareguard.report.interface import Reporter
from shareguard.report.json_report import JsonReporter


def register(registries: Registries) -> None:
    reporters = registries.of(Reporter)  # type: ignore[type-abstract]
    reporters.add("json", JsonReporter())
