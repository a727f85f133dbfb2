"""`shareguard logs TARGET...`: Sigma rules over audit logs (CloudTrail, Cloud Audit Logs, Kubernetes audit)."""

from __future__ import annotations

import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Annotated

import typer

from shareguard.cli.common import (
    ExitCodeOpt,
    IgnoreFileOpt,
    MinSeverityOpt,
    OutputOpt,
    OutputOptions,
    QuietOpt,
    SeverityOpt,
    emit,
    fail,
    select_reporter,
    stderr_console,
)
from shareguard.core.errors import ConfigError, ShareguardError
from shareguard.core.registry import load_registries
from shareguard.core.settings import Settings


def register(app: typer.Typer) -> None:
    app.command("logs")(logs)


def logs(
    targets: Annotated[
        list[str] | None,
        typer.Argument(help="Log files, folders, '-' for stdin, or s3:// / gs:// URLs (prefixes are listed)."),
    ] = None,
    rules: Annotated[
        list[Path] | None,
        typer.Option("--rules", help="A Sigma rule folder or file (repeatable), e.g. SigmaHQ's rules/cloud."),
    ] = None,
    no_builtin: Annotated[
        bool, typer.Option("--no-builtin", help="Leave out the built-in ML-platform rule pack.")
    ] = False,
    list_rules: Annotated[
        bool, typer.Option("--list-rules", help="List the rules that load, and those that do not with the reason.")
    ] = False,
    sink: Annotated[
        list[str] | None,
        typer.Option(
            "--sink",
            help="Deliver incidents: webhook+https://…, slack+https://…, syslog://host:514, syslog+tcp://…, "
            "smtp://host:25?to=a@b, file:///path.jsonl (repeatable).",
        ),
    ] = None,
    spool: Annotated[
        Path | None, typer.Option("--spool", help="Spool of undelivered alerts (default: cache dir/logs-spool).")
    ] = None,
    follow: Annotated[
        Path | None, typer.Option("--follow", help="Tail this folder: process each arriving file once.")
    ] = None,
    state: Annotated[
        Path | None, typer.Option("--state", help="--follow position file (default: cache dir/logs-follow.json).")
    ] = None,
    poll: Annotated[float, typer.Option("--poll", min=0.0, help="--follow: seconds between polls.")] = 5.0,
    cycles: Annotated[int, typer.Option("--cycles", min=0, help="--follow: stop after N polls (0: never).")] = 0,
    handoff: Annotated[
        Path | None, typer.Option("--handoff", help="Write a hand-off report per incident (for the provider) here.")
    ] = None,
    runner: Annotated[
        str | None,
        typer.Option("--runner", help="Run the evaluation as an Apache Beam pipeline on this runner (DirectRunner…)."),
    ] = None,
    format: Annotated[
        str, typer.Option("--format", "-f", help="Output format: table, json, sarif, html, ocsf.")
    ] = "table",
    output: OutputOpt = None,
    severity: SeverityOpt = None,
    min_severity: MinSeverityOpt = None,
    exit_code: ExitCodeOpt = 0,
    quiet: QuietOpt = False,
    ignore_file: IgnoreFileOpt = None,
) -> None:
    """Detect incidents in audit logs with Sigma rules evaluated in-process (SigmaHQ's and a built-in
    ML-platform pack), group alerts into incidents, and deliver them to sinks.

    Exit codes: 0 ok; N (with --exit-code N) incidents found; 2 user error; 3 some input not read.
    """
    from shareguard.logs.run import LogOptions, load_rules

    try:
        opts = OutputOptions.build(format, output, severity, exit_code, quiet, ignore_file, min_severity)
        options = LogOptions(rules=tuple(rules or ()), builtin=not no_builtin)
        settings = Settings.from_env()
        if list_rules:
            _list_rules(load_rules(options))
            raise typer.Exit(0)
        sinks = _deliverer(sink or [], spool or settings.cache_dir / "logs-spool")
        if follow is not None:
            if targets:
                raise ConfigError("--follow takes a folder instead of TARGETs")
            _follow(follow, state or settings.cache_dir / "logs-follow.json", options, sinks, poll, cycles, quiet)
            raise typer.Exit(0)
        if not targets:
            raise ConfigError("name a log file, folder, '-' or URL (or --follow FOLDER)")
        regs = load_registries()
        select_reporter(regs, opts, "logs")
        if runner:
            from shareguard.logs.beam import run_beam

            run = run_beam(targets, options, runner, settings)
        else:
            from shareguard.logs.run import run_logs

            run = run_logs(targets, options, settings)
        if handoff is not None:
            _handoffs(handoff, run.incidents)
        if sinks is not None:
            _deliver(sinks, run.incidents, quiet)
        code = emit(run.result, opts, regs, scan_root=None)
    except ShareguardError as exc:
        raise fail(exc) from None
    raise typer.Exit(code)


def _list_rules(rs: object) -> None:
    from shareguard.logs.ruleset import RuleSet

    assert isinstance(rs, RuleSet)
    for kind in sorted({r.kind for r in rs.rules} | {c.kind for c in rs.correlations}):
        typer.echo(f"{kind.value}: {rs.count(kind)} rules")
    for info in rs.infos():
        typer.echo(f"  {info.id}  {info.severity.value:8} {info.title}")
    for u in rs.unsupported:
        typer.echo(f"not evaluated: {u.one_line()}")


def _deliverer(specs: list[str], spool: Path) -> object | None:
    if not specs:
        return None
    from shareguard.logs.sinks.factory import make_sink
    from shareguard.logs.sinks.spool import Deliverer

    return Deliverer([make_sink(s) for s in specs], spool)


def _deliver(deliverer: object, incidents: Sequence[object], quiet: bool) -> None:
    from shareguard.logs.incidents import Incident
    from shareguard.logs.notify import message
    from shareguard.logs.sinks.spool import Deliverer

    assert isinstance(deliverer, Deliverer)
    done = deliverer.deliver([message(i) for i in incidents if isinstance(i, Incident)])
    err = stderr_console(quiet)
    for sink_name, mid, error in done.failed:
        err.print(
            f"[yellow]warning[/]: {mid} not delivered to {sink_name} ({error}); kept in the spool", soft_wrap=True
        )


def _handoffs(folder: Path, incidents: Sequence[object]) -> None:
    from shareguard.core.output import write_atomically
    from shareguard.logs.incidents import Incident, handoff

    folder.mkdir(parents=True, exist_ok=True)
    for i in incidents:
        if isinstance(i, Incident):
            write_atomically(folder / f"{i.id}.txt", handoff(i))


def _follow(
    folder: Path, state: Path, options: object, sinks: object | None, poll: float, cycles: int, quiet: bool
) -> None:
    from shareguard.logs.detect import Detection
    from shareguard.logs.follow import Follower
    from shareguard.logs.run import LogOptions, load_rules
    from shareguard.logs.sinks.spool import Deliverer

    assert isinstance(options, LogOptions)
    state.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(sinks, Deliverer):
        sinks.flush()  # what an earlier run could not deliver goes first

    def on_detection(key: str, detection: Detection) -> None:
        for issue in detection.issues:
            stderr_console(quiet).print(f"[yellow]warning[/]: {issue.one_line()}", soft_wrap=True, highlight=False)
        for incident in detection.incidents:
            sys.stdout.write(json.dumps({k: v for k, v in incident.to_dict().items() if k != "evidence"}) + "\n")
            sys.stdout.flush()
        if sinks is not None and detection.incidents:
            _deliver(sinks, list(detection.incidents), quiet)

    follower = Follower(
        folder, state, load_rules(options), on_detection, suppress=options.suppress_seconds, gap=options.gap_seconds
    )
    follower.run(poll, cycles)
