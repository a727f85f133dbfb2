"""`shareguard models PATH`: model files and ML code, analysed without executing anything."""

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


def register(app: typer.Typer) -> None:
    app.command("models")(models)


def models(
    path: Annotated[
        Path, typer.Argument(help="Model file, archive or directory (models, notebooks, code, requirements).")
    ],
    format: FormatOpt = "table",
    output: OutputOpt = None,
    severity: SeverityOpt = None,
    min_severity: MinSeverityOpt = None,
    exit_code: ExitCodeOpt = 0,
    quiet: QuietOpt = False,
    ignore_file: IgnoreFileOpt = None,
    group_by: GroupByOpt = "duty",
    show_all: ShowAllOpt = False,
) -> None:
    """Find code that runs when model files load (pickle, torch, joblib, numpy, Keras, TF, ONNX…),
    unsafe loading code, and framework versions with load-time code-execution CVEs."""
    try:
        opts = OutputOptions.build(
            format, output, severity, exit_code, quiet, ignore_file, min_severity, group_by=group_by, show_all=show_all
        )
        code = scan_path(path, opts, command="models", capabilities=frozenset({"models"}))
    except ShareguardError as exc:
        raise fail(exc) from None
    raise typer.Exit(code)
