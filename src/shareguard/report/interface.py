"""The reporter plugin kind: one per `--format` value."""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol, TextIO, runtime_checkable

from shareguard.core.result import ScanResult
from shareguard.report.options import ReportOptions

if TYPE_CHECKING:  # the catalog's models are built when a report is rendered, not by every command line
    from shareguard.catalog.model import Catalog


@runtime_checkable
class Reporter(Protocol):
    name: str
    """The `--format` value."""
    commands: frozenset[str] | None
    """Commands this format applies to (None: all). E.g. SBOM formats only for image/rootfs."""

    def render(self, result: ScanResult, catalog: Catalog) -> str: ...


@runtime_checkable
class TerminalReporter(Protocol):
    """A reporter that can also render for an interactive terminal (colour, terminal width).

    `render` stays plain (no escape codes) for files and pipes; the CLI calls `render_terminal`
    only when the report goes to a terminal.
    """

    def render_terminal(self, result: ScanResult, catalog: Catalog, width: int) -> str: ...


@runtime_checkable
class StreamingReporter(Protocol):
    """A reporter that can write its report to a file object piece by piece (a large report is never held
    whole in memory); the CLI prefers `write` to `render` for files and pipes."""

    def write(self, result: ScanResult, catalog: Catalog, out: TextIO) -> None: ...


@runtime_checkable
class ConfigurableReporter(Protocol):
    """A reporter whose layout the command line can change (`--group-by`, `--show-all`, `--list-packages`):
    `with_options` returns a reporter that renders with them (the registered one is never changed)."""

    def with_options(self, options: ReportOptions) -> Reporter: ...
