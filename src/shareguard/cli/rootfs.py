"""`shareguard rootfs DIR`: inventory an unpacked root filesystem (a VM disk, a chroot, `/`)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from shareguard.cli.common import (
    ExitCodeOpt,
    FormatOpt,
    GroupByOpt,
    IgnoreFileOpt,
    ListPackagesOpt,
    MinSeverityOpt,
    OutputOpt,
    OutputOptions,
    QuietOpt,
    SeverityOpt,
    ShowAllOpt,
    check_before_scan,
    emit,
    fail,
    progress,
)
from shareguard.cli.image import IgnoreUnfixedOpt, VexOpt, needed_plugin, vex_option
from shareguard.core.context import ScanContext
from shareguard.core.errors import ShareguardError
from shareguard.core.options import OptionSet
from shareguard.core.registry import load_registries
from shareguard.core.settings import Settings
from shareguard.vuln.options import VulnOptions


def register(app: typer.Typer) -> None:
    app.command("rootfs")(rootfs)


def rootfs(
    path: Annotated[Path, typer.Argument(help="Root directory of the filesystem to scan (e.g. / or a mount).")],
    ignore_unfixed: IgnoreUnfixedOpt = False,
    vex: VexOpt = None,
    format: FormatOpt = "table",
    output: OutputOpt = None,
    severity: SeverityOpt = None,
    min_severity: MinSeverityOpt = None,
    exit_code: ExitCodeOpt = 0,
    quiet: QuietOpt = False,
    ignore_file: IgnoreFileOpt = None,
    group_by: GroupByOpt = "duty",
    show_all: ShowAllOpt = False,
    list_packages: ListPackagesOpt = False,
) -> None:
    """Scan a root filesystem: OS and language packages and their vulnerabilities, without running anything."""
    from shareguard.image.scan import scan_rootfs

    try:
        opts = OutputOptions.build(
            format,
            output,
            severity,
            exit_code,
            quiet,
            ignore_file,
            min_severity,
            group_by=group_by,
            show_all=show_all,
            list_packages=list_packages,
        )
        regs = load_registries(builtin_filter=needed_plugin)
        check_before_scan(regs, opts, "rootfs", None)
        ctx = ScanContext(
            settings=Settings.from_env(),
            root=path,
            options=OptionSet((VulnOptions(ignore_unfixed=ignore_unfixed, vex=vex_option(vex)),)),
            command="rootfs",
        )
        with progress(quiet, f"rootfs {path}") as prog:
            task = prog.task_ids[0]
            result = scan_rootfs(path, regs, ctx, on_file=lambda: prog.advance(task))
        code = emit(result, opts, regs, scan_root=None)
    except ShareguardError as exc:
        raise fail(exc) from None
    raise typer.Exit(code)
