"""Reporters registered by name and imported only when their format is rendered.

Every command registers every format, but a run renders one: importing the HTML, SARIF, SPDX and
table renderers (and what they import) for each run was a visible part of start-up."""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from functools import cached_property
from typing import Any

from shareguard.catalog.model import Catalog
from shareguard.core.result import ScanResult
from shareguard.report.options import ReportOptions


@dataclass
class LazyReporter:
    """A reporter class named by `module:attribute`, instantiated at first render."""

    name: str
    target: str
    commands: frozenset[str] | None = None

    @cached_property
    def _reporter(self) -> Any:
        module, _, attr = self.target.partition(":")
        return getattr(importlib.import_module(module), attr)()

    def render(self, result: ScanResult, catalog: Catalog) -> str:
        out: str = self._reporter.render(result, catalog)
        return out

    def with_options(self, options: ReportOptions) -> Any:
        """The reporter laid out with `options` (itself when the format has no options)."""
        configure = getattr(self._reporter, "with_options", None)
        return self if configure is None else configure(options)


@dataclass
class LazyTerminalReporter(LazyReporter):
    """The same for a reporter that also renders for an interactive terminal."""

    def render_terminal(self, result: ScanResult, catalog: Catalog, width: int) -> str:
        out: str = self._reporter.render_terminal(result, catalog, width)
        return out
