"""`shareguard data PATH|URL`: sensitive data and secrets where they are stored (files, archives, buckets)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated

import typer

from shareguard.cli.common import (
    ExitCodeOpt,
    FormatOpt,
    IgnoreFileOpt,
    MinSeverityOpt,
    OutputOpt,
    OutputOptions,
    QuietOpt,
    SeverityOpt,
    check_before_scan,
    emit,
    fail,
    select_reporter,
)
from shareguard.core.errors import ConfigError, ShareguardError
from shareguard.core.options import OptionSet
from shareguard.core.registry import Registries, load_registries
from shareguard.scan import run_path_scan
from shareguard.sensitive.catalog import Confidence
from shareguard.sensitive.objstore import is_url
from shareguard.sensitive.options import DEFAULT_MAX_BYTES, SensitiveOptions


def register(app: typer.Typer) -> None:
    app.command("data")(data)


def data(
    target: Annotated[
        str, typer.Argument(help="File, directory, or object-store URL (s3://bucket/prefix, gs://bucket/prefix).")
    ],
    format: FormatOpt = "table",
    output: OutputOpt = None,
    severity: SeverityOpt = None,
    min_severity: MinSeverityOpt = None,
    exit_code: ExitCodeOpt = 0,
    quiet: QuietOpt = False,
    ignore_file: IgnoreFileOpt = None,
    min_confidence: Annotated[
        str,
        typer.Option(
            "--min-confidence",
            help="List detections of this likelihood and above: very_unlikely, unlikely, possible, likely, "
            "very_likely. Hidden detections still fail their duties; matches under possible count only "
            "when this is set lower.",
        ),
    ] = "possible",
    sample_percent: Annotated[
        int, typer.Option("--sample-percent", min=1, max=100, help="Scan this share of the objects (stable by path).")
    ] = 100,
    max_bytes_per_object: Annotated[
        int,
        typer.Option(
            "--max-bytes-per-object", min=1, help="Bytes read from one object; the rest is not scanned (incomplete)."
        ),
    ] = DEFAULT_MAX_BYTES,
    max_findings: Annotated[
        int,
        typer.Option(
            "--max-findings-per-detector",
            min=0,
            help="Findings per detector per object (0: all); the summary counts every occurrence.",
        ),
    ] = 20,
    runner: Annotated[
        str | None,
        typer.Option(
            "--runner",
            help="Run as an Apache Beam pipeline: direct (local, offline, --workers processes), dataflow, flink, "
            "spark. Default: in this process.",
        ),
    ] = None,
    workers: Annotated[
        int, typer.Option("--workers", min=0, help="Worker processes of the direct runner (0: one per CPU).")
    ] = 0,
    redact: Annotated[
        Path | None,
        typer.Option(
            "--redact", help="Also write a copy of PATH to this directory with every detected value redacted."
        ),
    ] = None,
    redact_mode: Annotated[
        str,
        typer.Option(
            "--redact-mode", help="mask (keep 4 characters), hash (salted HMAC-SHA-256), replace (<detector>)."
        ),
    ] = "mask",
    beam_option: Annotated[
        list[str] | None,
        typer.Option(
            "--beam-option", help="A Beam pipeline option KEY=VALUE (repeatable), e.g. temp_location=gs://b/t."
        ),
    ] = None,
) -> None:
    """Find personal data, financial data and credentials in files, archives and buckets (Macie's job).

    Evidence is masked. Exit codes: 0 ok; N (with --exit-code N) findings remain; 2 user error; 3 some input
    not scanned."""
    try:
        opts = OutputOptions.build(format, output, severity, exit_code, quiet, ignore_file, min_severity)
        try:
            confidence = Confidence.parse(min_confidence)
        except ValueError as exc:
            raise ConfigError(str(exc)) from None
        sensitive = SensitiveOptions(
            all_files=True,
            min_confidence=confidence,
            max_bytes_per_object=max_bytes_per_object,
            sample_percent=sample_percent,
            max_findings_per_detector=max_findings,
        )
        options = OptionSet().with_(sensitive)
        if redact is not None:
            if is_url(target):
                raise ConfigError("--redact writes a local copy of a local input; download the objects first")
            from shareguard.sensitive.redact import redact_tree

            done = redact_tree(Path(target), redact, mode=redact_mode, options=sensitive)
            if not quiet:
                typer.echo(
                    f"redacted copy: {len(done.written)} files, {done.replaced} values ({redact_mode}) in {redact}; "
                    f"{len(done.skipped)} not copied",
                    err=True,
                )
        regs = _registries(sensitive)
        if runner is not None:
            from shareguard.sensitive.beam import run_beam_scan

            select_reporter(regs, opts, "data")
            result = run_beam_scan(
                target,
                runner=runner,
                workers=workers or os.cpu_count() or 1,
                options=options,
                beam_options=beam_option or (),
                registries=regs,
            )
            code = emit(result, opts, regs, scan_root=None if is_url(target) else _root(Path(target)))
        elif is_url(target):
            from shareguard.scan import run_url_scan

            select_reporter(regs, opts, "data")
            result = run_url_scan(target, options=options, registries=regs)
            code = emit(result, opts, regs, scan_root=None)
        else:
            root = _root(Path(target))
            check_before_scan(regs, opts, "data", root)
            result = run_path_scan(
                Path(target),
                command="data",
                capabilities=frozenset({"sensitive"}),
                options=options,
                registries=regs,
                quiet=opts.quiet,
            )
            code = emit(result, opts, regs, scan_root=root)
    except ShareguardError as exc:
        raise fail(exc) from None
    raise typer.Exit(code)


def _registries(options: SensitiveOptions) -> Registries:
    """The plugins, with the sensitive-data analyzer claiming by this command's options (every file)."""
    from shareguard.sensitive import plugin

    regs = load_registries(builtin_filter=lambda name: name != plugin.__name__)
    plugin.register(regs, options)
    return regs


def _root(path: Path) -> Path:
    return path if path.is_dir() else path.parent
