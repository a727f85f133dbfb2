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
    # `logs rules update|list|show` shares the command: unknown options reach TARGETs, so the rules
    # sub-commands (their own Typer app) get `--from`; any other unknown option is reported there.
    app.command("logs", context_settings={"ignore_unknown_options": True})(logs)


rules_app = typer.Typer(
    name="shareguard logs rules", help="SigmaHQ's rules bundled with shareguard.", no_args_is_help=True
)


@rules_app.command("update")
def rules_update(
    source: Annotated[
        Path, typer.Option("--from", help="A Sigma rule folder (a SigmaHQ checkout's rules/ or rules/cloud…).")
    ],
    into: Annotated[
        Path | None,
        typer.Option("--into", help="Write the snapshot here (default: the cache, used from then on)."),
    ] = None,
) -> None:
    """Import the rules shareguard can evaluate (CloudTrail, Cloud Audit Logs, Kubernetes audit) from a
    Sigma folder into the snapshot evaluated by `logs` and `audit`."""
    from shareguard.logs.sigmahq import import_rules, user_dir

    dest = into or user_dir(Settings.from_env().cache_dir)
    report = import_rules(source, dest)
    typer.echo(
        f"{len(report.kept)} rule files imported into {dest}"
        + (f" (commit {report.commit})" if report.commit else "")
        + f"; {len(report.skipped)} left out (log sources shareguard does not read; see MANIFEST.json)"
    )


@rules_app.command("list")
def rules_list() -> None:
    """The SigmaHQ snapshot in use: where it came from and its rules."""
    from shareguard.logs.rulemeta import sigmahq_metas
    from shareguard.logs.sigmahq import active_dir, manifest

    cache = Settings.from_env().cache_dir
    folder = active_dir(cache)
    m = manifest(folder)
    typer.echo(
        f"SigmaHQ snapshot: {folder} ({m.get('source')} {m.get('commit')}, {m.get('imported')}, {m.get('license')})"
    )
    for meta in sigmahq_metas(cache):
        typer.echo(f"  {meta.id}  {meta.severity.value:8} {meta.title}")


@rules_app.command("show")
def rules_show(rule_id: Annotated[str, typer.Argument(help="A rule id (sigma:<uuid>, or the uuid).")]) -> None:
    """One SigmaHQ rule of the snapshot: its metadata, author and file."""
    from shareguard.logs.rulemeta import sigmahq_metas
    from shareguard.logs.sigmahq import active_dir, manifest

    cache = Settings.from_env().cache_dir
    wanted = rule_id if rule_id.startswith("sigma:") else f"sigma:{rule_id}"
    for meta in sigmahq_metas(cache):
        if meta.id == wanted:
            entry = next(r for r in manifest(active_dir(cache)).get("rules", []) if r["id"] == wanted)
            typer.echo(f"{meta.id}  {meta.severity.value}  {meta.title}\n{meta.description}")
            typer.echo(f"author: {entry.get('author')}\nfile: {entry.get('path', '')}\nlicense: DRL 1.1")
            for ref in meta.references:
                typer.echo(f"reference: {ref}")
            return
    raise fail(ConfigError(f"no SigmaHQ rule {rule_id} in the snapshot"))


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
    no_sigmahq: Annotated[
        bool, typer.Option("--no-sigmahq", help="Leave out SigmaHQ's bundled cloud and Kubernetes rules.")
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
    if targets and targets[0] == "rules":  # `shareguard logs rules update|list|show …`
        rules_app(targets[1:], prog_name="shareguard logs rules")
    if targets and any(t.startswith("--") for t in targets):
        raise fail(ConfigError(f"no such option: {next(t for t in targets if t.startswith('--'))}"))
    from shareguard.logs.run import LogOptions, load_rules

    try:
        opts = OutputOptions.build(format, output, severity, exit_code, quiet, ignore_file, min_severity)
        settings = Settings.from_env()
        options = LogOptions(
            rules=tuple(rules or ()), builtin=not no_builtin, sigmahq=not no_sigmahq, cache_dir=settings.cache_dir
        )
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
        regs = load_registries(builtin_filter=needed_plugin)
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


def needed_plugin(module: str) -> bool:
    """The registries serve `logs` its reporters only (the run itself loads its rules and fields): the report
    plugins and the logs plugin (`ocsf`), not the image, posture, model or vulnerability capabilities."""
    return module.startswith(("shareguard.report.", "shareguard.logs."))


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
