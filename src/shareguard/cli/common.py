"""Options every scanning command shares, and the one path from a ScanResult to output + exit code."""

from __future__ import annotations

import shutil
import sys
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from shareguard.core.errors import ConfigError, ShareguardError
from shareguard.core.finding import Status
from shareguard.core.output import write_atomically as write_atomically  # re-exported (tests, commands)
from shareguard.core.output import write_output
from shareguard.core.progress import progress as progress  # re-exported: the commands show it
from shareguard.core.registry import Registries
from shareguard.core.result import ScanResult
from shareguard.core.severity import Severity, at_or_above, parse_severity_list, sorted_desc
from shareguard.core.text import printable
from shareguard.report.interface import ConfigurableReporter, Reporter, StreamingReporter, TerminalReporter
from shareguard.report.options import GROUP_BY_CHOICES, GroupBy, ReportOptions

FormatOpt = Annotated[
    str,
    typer.Option(
        "--format", "-f", help="Output format: table, json, sarif, html (image/rootfs: also cyclonedx, spdx)."
    ),
]
OutputOpt = Annotated[Path | None, typer.Option("--output", "-o", help="Write the report to FILE (atomically).")]
TableJsonFormatOpt = Annotated[str, typer.Option("--format", "-f", help="table or json.")]
"""`--format` of the listing sub-commands (`db status`, `catalog show`, `bulletins show`)."""
SeverityOpt = Annotated[
    str | None,
    typer.Option(
        "--severity",
        "-s",
        help="Report exactly these severities, comma-separated (critical,high,medium,low,unknown,info; default: all). "
        "One value is a set of one, not a threshold. Verdicts still count every finding.",
    ),
]
MinSeverityOpt = Annotated[
    str | None,
    typer.Option(
        "--min-severity",
        help="Report findings of this severity and above (order: critical > high > medium > low > unknown > info).",
    ),
]
ExitCodeOpt = Annotated[
    int,
    typer.Option(
        "--exit-code",
        min=0,
        max=255,
        help="Exit with this code (0-255) when a finding of the reported severities remains.",
    ),
]
QuietOpt = Annotated[bool, typer.Option("--quiet", "-q", help="No progress or notices on stderr.")]
IgnoreFileOpt = Annotated[
    Path | None,
    typer.Option("--ignore-file", help="Waiver file (default: .shareguard-ignore.yaml in the scanned root)."),
]
GroupByOpt = Annotated[
    str,
    typer.Option(
        "--group-by",
        help="Group failing findings in the table and HTML report by: duty (each under its duty of highest "
        "severity), resource or rule.",
    ),
]
ShowAllOpt = Annotated[
    bool,
    typer.Option(
        "--show-all",
        help="Table: every duty on its own line (passing, not assessed, provider) and each finding's evidence and fix text.",
    ),
]
ListPackagesOpt = Annotated[
    bool,
    typer.Option(
        "--list-packages",
        help="JSON: add the package inventory (layer, ecosystem, purl, origin, ML build facts) as `packages`.",
    ),
]

EXIT_INCOMPLETE = 3
"""Exit code when some input could not be scanned (and no --exit-code finding triggered first)."""


@dataclass
class OutputOptions:
    format: str = "table"
    output: Path | None = None
    severity: list[Severity] = field(default_factory=lambda: list(Severity))
    exit_code: int = 0
    quiet: bool = False
    ignore_file: Path | None = None
    report: ReportOptions = field(default_factory=ReportOptions)

    @classmethod
    def build(
        cls,
        format: str,
        output: Path | None,
        severity: str | None,
        exit_code: int,
        quiet: bool,
        ignore_file: Path | None,
        min_severity: str | None = None,
        *,
        group_by: str = "duty",
        show_all: bool = False,
        list_packages: bool = False,
    ) -> OutputOptions:
        listed = parse_severity_list(severity)
        floor = set(at_or_above(min_severity))
        return cls(
            format=format.lower(),
            output=output,
            severity=[s for s in listed if s in floor],
            exit_code=exit_code,
            quiet=quiet,
            ignore_file=ignore_file,
            report=ReportOptions(
                group_by=_group_by(group_by),
                show_all=show_all,
                list_packages=list_packages,
                output_name=output.name if output is not None else None,
            ),
        )


def _group_by(value: str) -> GroupBy:
    for choice in GROUP_BY_CHOICES:
        if value.lower() == choice:
            return choice  # type: ignore[return-value]
    raise ConfigError(f"unknown --group-by '{value}' (choose: {', '.join(GROUP_BY_CHOICES)})")


if TYPE_CHECKING:
    from rich.console import Console

    from shareguard.catalog import Catalog  # its pydantic models are built when a report is written


def stderr_console(quiet: bool = False) -> Console:
    # rich is imported when something is printed: a quiet run with nothing to say does not pay for it.
    from rich.console import Console

    return Console(stderr=True, quiet=quiet, highlight=False)


def escape(text: str) -> str:
    """User content (paths, messages) made safe for the terminal: control characters (ESC, NUL, newlines,
    bidi overrides) shown escaped, never obeyed (`core.text.printable`), and `[x]` in a file name not rich markup."""
    from rich.markup import escape as rich_escape

    return rich_escape(printable(text))


def select_reporter(registries: Registries, opts: OutputOptions, command: str) -> Reporter:
    """Fail fast on a bad --format, before any scanning: `unknown format 'xml' for audit (choose: table, json, …)`."""
    reporters = registries.of(Reporter)  # type: ignore[type-abstract]
    choices = [n for n in reporters.names() if _applies(reporters.get(n), command)]
    if opts.format not in choices:
        if opts.format in reporters.names():
            raise ConfigError(f"format '{opts.format}' is not available for {command} (choose: {', '.join(choices)})")
        raise ConfigError(f"unknown format '{opts.format}' for {command} (choose: {', '.join(choices)})")
    reporter = reporters.get(opts.format)
    if isinstance(reporter, ConfigurableReporter):
        return reporter.with_options(opts.report)
    return reporter


def _applies(reporter: Reporter, command: str) -> bool:
    return reporter.commands is None or command in reporter.commands


def check_before_scan(registries: Registries, opts: OutputOptions, command: str, scan_root: Path | None) -> None:
    """What the user gave that can be wrong is checked before any work: the format, and the waiver file
    (`--ignore-file`, or the scanned root's `.shareguard-ignore.yaml`), so a malformed one is a one-line
    user error (exit 2) and no scan runs in vain."""
    from shareguard.core.waivers import find_waiver_file, load_waivers

    select_reporter(registries, opts, command)
    waiver_file = find_waiver_file(scan_root, opts.ignore_file)
    if waiver_file is not None:
        load_waivers(waiver_file)


def emit(
    result: ScanResult,
    opts: OutputOptions,
    registries: Registries,
    *,
    scan_root: Path | None,
    catalog: Catalog | None = None,
) -> int:
    """Apply waivers and severity filter, render, write, and return the exit code."""
    from shareguard.catalog import load_catalog
    from shareguard.core.waivers import apply_waivers, find_waiver_file

    reporter = select_reporter(registries, opts, result.command)
    waiver_file = find_waiver_file(scan_root, opts.ignore_file)
    if waiver_file is not None:
        result = apply_waivers(result, waiver_file)
    if set(opts.severity) != set(Severity):
        shown = ",".join(s.value for s in sorted_desc(opts.severity))
        result = replace(result, metadata={**result.metadata, "severity_filter": shown})
    result = result.filter_severity(opts.severity)
    write_report(reporter, result, catalog or load_catalog(), opts.output)
    if opts.quiet or (not result.issues and not result.expired_waivers):
        return exit_code_for(result, opts)  # --quiet prints nothing: rich is not even imported
    err = stderr_console()
    # Paths and messages are user content: escape them so `[x]` in a file name is not rich markup.
    for issue in result.issues:
        err.print(f"[yellow]{issue.kind}[/]: {escape(issue.path)}: {escape(issue.message)}", soft_wrap=True)
    for w in result.expired_waivers:
        where = escape(f"{w.source}:{w.line or '?'}")
        err.print(f"[yellow]warning[/]: {where}: waiver expired on {w.expires} ({escape(w.reason)})", soft_wrap=True)
    return exit_code_for(result, opts)


def write_report(reporter: Reporter, result: ScanResult, catalog: Catalog, output: Path | None) -> None:
    """The report to `output` (see `core.output`) or stdout; streamed when the reporter can (a large JSON
    report is never held whole in memory)."""
    to_terminal = output is None and isinstance(reporter, TerminalReporter) and sys.stdout.isatty()
    if isinstance(reporter, StreamingReporter) and not to_terminal:
        streaming = reporter
        if output is not None:
            write_output(output, lambda fh: streaming.write(result, catalog, fh))
        else:
            streaming.write(result, catalog, sys.stdout)
            sys.stdout.flush()
        return
    content = render(reporter, result, catalog, to_terminal=output is None)
    if output is not None:
        write_atomically(output, content)
    else:
        sys.stdout.write(content if content.endswith("\n") else content + "\n")
        sys.stdout.flush()


def render(reporter: Reporter, result: ScanResult, catalog: Catalog, *, to_terminal: bool) -> str:
    """Colour and terminal width only when the report goes to an interactive terminal."""
    if to_terminal and isinstance(reporter, TerminalReporter) and sys.stdout.isatty():
        width = shutil.get_terminal_size(fallback=(120, 40)).columns
        return reporter.render_terminal(result, catalog, width)
    return reporter.render(result, catalog)


def exit_code_for(result: ScanResult, opts: OutputOptions) -> int:
    """`--exit-code N` counts failing findings of the reported severities (Trivy's rule)."""
    if opts.exit_code and any(f.status is Status.FAIL for f in result.shown()):
        return opts.exit_code
    if result.has_errors():
        return EXIT_INCOMPLETE
    return 0


def fail(exc: ShareguardError) -> typer.Exit:
    """Print a user error as one line and return the Exit to raise (exit code 2)."""
    stderr_console().print(f"[red]error[/]: {escape(exc.one_line())}", soft_wrap=True, highlight=False)
    return typer.Exit(exc.exit_code)
