"""`shareguard audit PATH`: every analyzer over a workspace, rolled up to the duty catalog."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from shareguard.cli.common import (
    ExitCodeOpt,
    FormatOpt,
    GroupByOpt,
    IgnoreFileOpt,
    MinSeverityOpt,
    OutputOpt,
    OutputOptions,
    QuietOpt,
    SeverityOpt,
    ShowAllOpt,
    fail,
)
from shareguard.cli.path_scan import scan_path
from shareguard.core.errors import ShareguardError
from shareguard.core.options import OptionSet
from shareguard.freshness.options import FreshnessOptions
from shareguard.posture.options import PostureOptions


def register(app: typer.Typer) -> None:
    app.command("audit")(audit)


def audit(
    path: Annotated[Path, typer.Argument(help="Workspace directory or file to audit.")],
    format: FormatOpt = "table",
    output: OutputOpt = None,
    severity: SeverityOpt = None,
    min_severity: MinSeverityOpt = None,
    exit_code: ExitCodeOpt = 0,
    quiet: QuietOpt = False,
    ignore_file: IgnoreFileOpt = None,
    group_by: GroupByOpt = "duty",
    show_all: ShowAllOpt = False,
    long_running_days: Annotated[
        int | None,
        typer.Option(
            "--long-running-days",
            min=1,
            help="Running jobs, endpoints and VMs older than this many days must be restarted on patched images "
            "(default: long_running_days in .shareguard.yaml, else 30).",
        ),
    ] = None,
) -> None:
    """Audit a workspace: hand each file to the analyzers that claim it and report per duty.

    Exit codes: 0 ok; N (with --exit-code N) failing findings remain; 2 user error; 3 some input not scanned.
    """
    try:
        opts = OutputOptions.build(
            format, output, severity, exit_code, quiet, ignore_file, min_severity, group_by=group_by, show_all=show_all
        )
        options = OptionSet().with_(
            PostureOptions(long_running_days=long_running_days), FreshnessOptions(long_running_days=long_running_days)
        )
        code = scan_path(path, opts, command="audit", options=options)
    except ShareguardError as exc:
        raise fail(exc) from None
    raise typer.Exit(code)
