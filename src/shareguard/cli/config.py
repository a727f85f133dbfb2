"""`shareguard config PATH`: configuration and posture audit (Dockerfiles, Kubernetes, Terraform, …)."""

from __future__ import annotations

from dataclasses import replace
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
    stderr_console,
)
from shareguard.cli.path_scan import scan_path
from shareguard.core.errors import ShareguardError
from shareguard.core.options import OptionSet
from shareguard.core.result import ScanResult

RulesOpt = Annotated[
    list[Path] | None,
    typer.Option("--rules", help="Directory (or file) of user rules: YAML with CEL conditions. Repeatable."),
]
BaselineOpt = Annotated[
    Path | None, typer.Option("--baseline", help="Baseline JSON: findings listed there are waived, only new ones fail.")
]
WriteBaselineOpt = Annotated[
    Path | None, typer.Option("--write-baseline", help="Write today's failing findings to this baseline JSON file.")
]
FipsOpt = Annotated[bool, typer.Option("--fips-required", help="Require FIPS endpoints (as `fips: required`).")]


def _needed_plugin(module: str) -> bool:
    """Posture analyzers and the reporters: other capabilities' analyzers are filtered out of a `config`
    run anyway (and no posture fact feeds their post analyzers), so their imports are not paid."""
    return module.startswith(("shareguard.posture.", "shareguard.report."))


def register(app: typer.Typer) -> None:
    app.command("config")(config)


def config(
    path: Annotated[Path, typer.Argument(help="Directory or file of configuration to audit.")],
    format: FormatOpt = "table",
    output: OutputOpt = None,
    severity: SeverityOpt = None,
    min_severity: MinSeverityOpt = None,
    exit_code: ExitCodeOpt = 0,
    quiet: QuietOpt = False,
    ignore_file: IgnoreFileOpt = None,
    group_by: GroupByOpt = "duty",
    show_all: ShowAllOpt = False,
    rules: RulesOpt = None,
    baseline: BaselineOpt = None,
    write_baseline: WriteBaselineOpt = None,
    fips_required: FipsOpt = False,
) -> None:
    """Audit configuration: Dockerfiles, Kubernetes manifests, Terraform, CloudFormation, IAM, job specs."""
    from shareguard.posture.baseline import apply_baseline
    from shareguard.posture.baseline import write_baseline as write_bl
    from shareguard.posture.cel_rules import CelOptions, load_rule_dirs
    from shareguard.posture.options import PostureOptions
    from shareguard.posture.plugin import posture_rules

    try:
        opts = OutputOptions.build(
            format, output, severity, exit_code, quiet, ignore_file, min_severity, group_by=group_by, show_all=show_all
        )
        ruleset = load_rule_dirs(rules, known_ids=posture_rules()) if rules else None
        options = OptionSet((PostureOptions(fips_required=True if fips_required else None), CelOptions(rules=ruleset)))

        def post(result: ScanResult) -> ScanResult:
            if ruleset is not None:
                result = replace(result, rules={**result.rules, **ruleset.metas()})
            if write_baseline is not None:
                n = write_bl(result, write_baseline)
                stderr_console(quiet).print(f"wrote {n} finding(s) to baseline {write_baseline}", highlight=False)
            if baseline is not None:
                result = apply_baseline(result, baseline)
            return result

        code = scan_path(
            path,
            opts,
            command="config",
            capabilities=frozenset({"posture"}),
            options=options,
            postprocess=post,
            plugins=_needed_plugin,
        )
    except ShareguardError as exc:
        raise fail(exc) from None
    raise typer.Exit(code)
