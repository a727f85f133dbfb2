"""`shareguard image REF | --input PATH`: inventory an image's layers, match vulnerabilities, report."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
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
from shareguard.core.context import ScanContext
from shareguard.core.errors import ConfigError, InputError, ShareguardError
from shareguard.core.options import OptionSet
from shareguard.core.registry import Registries, load_registries
from shareguard.core.result import ScanResult
from shareguard.core.settings import Settings
from shareguard.sources.image.manifest import DEFAULT_PLATFORM, normalise_platform
from shareguard.sources.image.model import ImageSource
from shareguard.vuln.options import VulnOptions

PlatformOpt = Annotated[
    str | None,
    typer.Option(
        "--platform",
        help=f"os/arch[/variant] to pick from a multi-arch index (default {DEFAULT_PLATFORM}); an archive without "
        "that platform is an error.",
    ),
]
IgnoreUnfixedOpt = Annotated[bool, typer.Option("--ignore-unfixed", help="Hide vulnerabilities without a fix.")]
VexOpt = Annotated[
    Path | None, typer.Option("--vex", help="OpenVEX file: `not_affected` vulnerabilities are reported as waived.")
]


def needed_plugin(module: str) -> bool:
    """Every built-in capability whose analyzers read an image's files or facts: the inventory, the
    matcher, the reporters, and the file analyzers `audit` runs (configuration, model files, ML code),
    which the layer walk feeds with the files they want (see docs/image.md), and the sensitive-data
    detectors (secrets baked into layers, docs/sensitive.md)."""
    return module.startswith(
        ("shareguard.image.", "shareguard.vuln.", "shareguard.report.", "shareguard.posture.", "shareguard.models.")
    ) or module.startswith(("shareguard.freshness.", "shareguard.sensitive."))


def register(app: typer.Typer) -> None:
    app.command("image")(image)


def vex_option(vex: Path | None) -> Path | None:
    """Validate the VEX file before any scanning: a bad one is a user error (exit 2), not a scan issue."""
    from shareguard.vuln.vex import load_vex

    if vex is not None:
        if not vex.is_file():
            raise InputError("VEX file not found", path=str(vex))
        load_vex(vex)
    return vex


@contextmanager
def open_source(
    reference: str | None,
    input: Path | None,
    platform: str | None,
    username: str | None,
    password: str | None,
    insecure: bool,
) -> Iterator[ImageSource]:
    if (reference is None) == (input is None):
        raise ConfigError("give either an image reference or --input PATH (not both)")
    given = platform is not None
    platform = platform or DEFAULT_PLATFORM
    normalise_platform(platform)
    if input is not None:
        from shareguard.sources.image.open import open_image_path

        yield open_image_path(input, platform, platform_given=given)
        return
    from shareguard.sources.registry.source import open_registry_image

    assert reference is not None
    with open_registry_image(reference, platform, username=username, password=password, insecure=insecure) as source:
        yield source


def _scan(source: ImageSource, regs: Registries, ctx: ScanContext, *, quiet: bool, use_cache: bool) -> ScanResult:
    from shareguard.image.scan import scan_image

    with progress(quiet, f"image {source.reference}", total=len(source.layers)) as prog:
        task = prog.task_ids[0]
        return scan_image(source, regs, ctx, use_cache=use_cache, on_layer=lambda layer, hit: prog.advance(task))


def image(
    reference: Annotated[
        str | None, typer.Argument(help="Image to pull: [registry/]repository[:tag][@digest].", show_default=False)
    ] = None,
    input: Annotated[
        Path | None,
        typer.Option("--input", "-i", help="docker-archive tar, oci-archive tar, or OCI layout directory."),
    ] = None,
    platform: PlatformOpt = None,
    username: Annotated[
        str | None, typer.Option("--username", help="Registry user (else $SHAREGUARD_REGISTRY_USERNAME).")
    ] = None,
    password: Annotated[
        str | None, typer.Option("--password", help="Registry password (else $SHAREGUARD_REGISTRY_PASSWORD).")
    ] = None,
    insecure_registry: Annotated[
        bool, typer.Option("--insecure-registry", help="Talk plain HTTP to the registry (e.g. on loopback).")
    ] = False,
    no_cache: Annotated[bool, typer.Option("--no-cache", help="Read every layer; do not use the layer cache.")] = False,
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
    """Scan a container image: OS and language packages per layer, their vulnerabilities, an SBOM."""
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
        check_before_scan(regs, opts, "image", None)
        options = OptionSet((VulnOptions(ignore_unfixed=ignore_unfixed, vex=vex_option(vex)),))
        ctx = ScanContext(settings=Settings.from_env(), options=options, command="image")
        with open_source(reference, input, platform, username, password, insecure_registry) as source:
            result = _scan(source, regs, ctx, quiet=quiet, use_cache=not no_cache)
        code = emit(result, opts, regs, scan_root=None)
    except ShareguardError as exc:
        raise fail(exc) from None
    raise typer.Exit(code)
