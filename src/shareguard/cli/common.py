"""Options every scanning command shares, and the one path from a ScanResult to output + exit code."""

from __future__ import annotations

import os
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

from shareguard.catalog import Catalog, load_catalog
from shareguard.core.errors import ConfigError, ShareguardError
from shareguard.core.finding import Status
from shareguard.core.registry import Registries
from shareguard.core.result import ScanResult
from shareguard.core.severity import Severity, parse_severity_list
from shareguard.report.interface import Reporter

FormatOpt = Annotated[
    str,
    typer.Option(
        "--format", "-f", help="Output format: table, json, sarif, html (image/rootfs: also cyclonedx, spdx)."
    ),
]
OutputOpt = Annotated[Path | None, typer.Option("--output", "-o", help="Write the report to FILE (atomically).")]
SeverityOpt = Annotated[
    str | None,
    typer.Option("--severity", "-s", help="Comma-separated severities to report (default: all)."),
]
ExitCodeOpt = Annotated[
    int, typer.Option("--exit-code", help="Exit with this code when a finding of the reported severities remains.")
]
QuietOpt = Annotated[bool, typer.Option("--quiet", "-q", help="No progress or notices on stderr.")]
IgnoreFileOpt = Annotated[
    Path | None,
    typer.Option("--ignore-file", help="Waiver file (default: .shareguard-ignore.yaml in the scanned root)."),
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

    @classmethod
    def build(
        cls,
        format: str,
        output: Path | None,
        severity: str | None,
        exit_code: int,
        quiet: bool,
        ignore_file: Path | None,
    ) -> OutputOptions:
        return cls(
            format=format.lower(),
            output=output,
            severity=parse_severity_list(severity),
            exit_code=exit_code,
            quiet=quiet,
            ignore_file=ignore_file,
        )


def stderr_console(quiet: bool = False) -> Console:
    return Console(stderr=True, quiet=quiet, highlight=False)


@contextmanager
def progress(quiet: bool, description: str, total: int | None = None) -> Iterator[Progress]:
    """A progress bar on stderr, only when stderr is a terminal and not --quiet."""
    enabled = not quiet and sys.stderr.isatty()
    prog = Progress(
        SpinnerColumn(),
        TextColumn("[progress.description]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=stderr_console(),
        disable=not enabled,
        transient=True,
    )
    with prog:
        prog.add_task(description, total=total)
        yield prog


def select_reporter(registries: Registries, opts: OutputOptions, command: str) -> Reporter:
    """Fail fast on a bad --format, before any scanning."""
    reporter = registries.of(Reporter).get(opts.format)  # type: ignore[type-abstract]
    if reporter.commands is not None and command not in reporter.commands:
        raise ConfigError(f"--format {opts.format} is not available for `{command}`")
    return reporter


def write_atomically(path: Path, content: str) -> None:
    """Write to a temporary file beside `path`, then rename: nothing half-written on failure."""
    directory = path.parent if str(path.parent) else Path(".")
    if not directory.is_dir():
        raise ConfigError("output directory does not exist", path=str(directory))
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=directory)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(content)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def emit(
    result: ScanResult,
    opts: OutputOptions,
    registries: Registries,
    *,
    scan_root: Path | None,
    catalog: Catalog | None = None,
) -> int:
    """Apply waivers and severity filter, render, write, and return the exit code."""
    from shareguard.core.waivers import apply_waivers, find_waiver_file

    reporter = select_reporter(registries, opts, result.command)
    waiver_file = find_waiver_file(scan_root, opts.ignore_file)
    if waiver_file is not None:
        result = apply_waivers(result, waiver_file)
    result = result.filter_severity(opts.severity)
    content = reporter.render(result, catalog or load_catalog())
    if opts.output is not None:
        write_atomically(opts.output, content)
    else:
        sys.stdout.write(content if content.endswith("\n") else content + "\n")
        sys.stdout.flush()
    err = stderr_console(opts.quiet)
    for issue in result.issues:
        err.print(f"[yellow]{issue.kind}[/]: {issue.path}: {issue.message}", markup=True, soft_wrap=True)
    for w in result.expired_waivers:
        err.print(f"[yellow]warning[/]: {w.source}:{w.line or '?'}: waiver expired on {w.expires} ({w.reason})")
    return exit_code_for(result, opts)


def exit_code_for(result: ScanResult, opts: OutputOptions) -> int:
    if opts.exit_code and any(f.status is Status.FAIL for f in result.findings):
        return opts.exit_code
    if result.has_errors():
        return EXIT_INCOMPLETE
    return 0


def fail(exc: ShareguardError) -> typer.Exit:
    """Print a user error as one line and return the Exit to raise (exit code 2)."""
    stderr_console().print(f"[red]error[/]: {exc.one_line()}", markup=True, soft_wrap=True, highlight=False)
    return typer.Exit(exc.exit_code)
