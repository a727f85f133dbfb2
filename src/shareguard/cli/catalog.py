"""`shareguard catalog update|show|publish`: the deep-learning image release catalog (data with an update
command and a bundled snapshot), and provider mode."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated

import typer

from shareguard.cli.common import QuietOpt, TableJsonFormatOpt, escape, fail, stderr_console, write_atomically
from shareguard.core.errors import ShareguardError, UnknownIdError
from shareguard.core.settings import Settings
from shareguard.core.text import printable
from shareguard.freshness import beam, store
from shareguard.freshness.model import normalise_framework
from shareguard.posture import tables

catalog_app = typer.Typer(
    help="Deep-learning image release catalogs (AWS DLC, Google DLC / DLVM / Workbench): update, show, publish.",
    no_args_is_help=True,
)


def register(app: typer.Typer) -> None:
    app.add_typer(catalog_app, name="catalog")


@catalog_app.command("update")
def update_cmd(
    source: Annotated[
        str | None,
        typer.Option(
            "--from",
            help="AWS DLC release metadata (a docs/src/data directory, a repository .tar.gz, or an http(s) URL to "
            "one), a Google image table (YAML, kind: google-dl-images), a Beam SDK / Dataflow support table (YAML, "
            "kind: beam-dataflow-sdk), a shareguard catalog JSON, or a posture data table (YAML, kind: "
            "eks-release-calendar or dataflow-data; or a folder of them). "
            "Default: the aws/deep-learning-containers archive on GitHub.",
        ),
    ] = None,
    quiet: QuietOpt = False,
) -> None:
    """Import a published release source into the local catalog; on any error the previous data stays in place."""
    from shareguard.freshness.update import update  # with its HTTP client: `show` and `publish` need neither

    settings = Settings.from_env()
    today = datetime.now(UTC).date()
    try:
        catalog, imported = update(source, settings, today)
    except ShareguardError as exc:
        stderr_console(quiet).print("the previous release catalog is left in place", highlight=False)
        raise fail(exc) from None
    if imported.posture_tables:
        for table in imported.posture_tables:
            stderr_console(quiet).print(
                f"imported the {tables.TITLES[table.name]} ({table.entries} entries, retrieved {table.retrieved}) "
                f"from {escape(table.origin)}: {escape(str(tables.local_path(table.name, settings)))}; the checks "
                f"prefer it to the bundled snapshot (retrieved {tables.bundled(table.name).retrieved})",
                highlight=False,
            )
        return
    stderr_console(quiet).print(
        f"imported {len(imported.releases) or len(catalog.releases)} releases from {escape(imported.source.name)} "
        f"({escape(imported.source.url)}); the catalog holds {len(catalog.releases)} releases: "
        f"{escape(str(store.local_path(settings)))}",
        highlight=False,
    )


@catalog_app.command("show")
def show_cmd(
    framework: Annotated[
        str | None, typer.Option("--framework", help="Only this framework (pytorch, tensorflow…).")
    ] = None,
    format: TableJsonFormatOpt = "table",
    quiet: QuietOpt = False,
) -> None:
    """List the release lines of the active catalog with their GA and end-of-patch dates."""
    if format not in ("table", "json"):
        raise fail(UnknownIdError(f"unknown format {format!r} (known: json, table)"))
    settings = Settings.from_env()
    today = datetime.now(UTC).date()
    try:
        catalog = store.load(settings)
    except ShareguardError as exc:
        raise fail(exc) from None
    warning = store.staleness_warning(catalog, today)
    if warning:
        stderr_console(quiet).print(f"[yellow]warning[/]: {escape(warning)}", markup=True, highlight=False)
    want = normalise_framework(framework) if framework else None
    rows = [r for r in catalog.releases if want is None or r.framework == want]
    if format == "json":
        doc = json.loads(store.encode(catalog))
        doc["releases"] = [json.loads(store.encode(type(catalog)((), (r,))))["releases"][0] for r in rows]
        doc["origin"] = catalog.origin
        typer.echo(json.dumps(doc, indent=2, sort_keys=True))
        return
    from rich.console import Console
    from rich.table import Table

    table = Table(title=f"release catalog ({len(rows)} of {len(catalog.releases)} releases): {catalog.origin}")
    for col in (
        "provider",
        "product",
        "image",
        "framework",
        "version",
        "accel.",
        "platform",
        "GA",
        "end of patch",
        "status",
    ):
        table.add_column(col)
    for r in sorted(rows, key=lambda r: (r.provider, r.product, r.repository, r.line_key)):
        status = "" if r.eop is None else ("past end of patch" if r.eop <= today else "supported")
        if r.product == "dataflow-sdk":
            status = beam.sdk_support(r.tags[-1], catalog, today).status if r.tags else ""
        table.add_row(
            r.provider,
            r.product,
            escape(f"{r.repository}:{r.tags[0]}" if r.provider == "aws" and r.tags else r.repository),
            escape(r.framework),
            escape(r.version),
            escape(r.accelerator),
            escape(r.platform),
            str(r.ga or ""),
            str(r.eop or ""),
            status,
        )
    console = Console()
    if not console.is_terminal:
        console.width = 160  # a pipe or file gets whole columns, not 80-column ellipses
    console.print(table)
    for s in catalog.sources:
        typer.echo(
            printable(f"source {s.name}: {s.url} (retrieved {s.retrieved}{', ' + s.revision if s.revision else ''})")
        )
    for name in tables.SCHEMAS:
        try:
            t = tables.load(name, settings)
        except ShareguardError as exc:
            typer.echo(printable(f"posture table {name}: {exc.one_line()}"))
            continue
        snapshot = (
            "" if t.origin == tables.BUNDLED else f"; bundled snapshot retrieved {tables.bundled(name).retrieved}"
        )
        typer.echo(
            printable(f"posture table {name} ({tables.TITLES[name]}): {t.origin}, retrieved {t.retrieved}{snapshot}")
        )


@catalog_app.command("publish")
def publish_cmd(
    catalog_file: Annotated[
        Path, typer.Argument(help="CATALOG.yaml listing the images you publish (see docs/freshness.md).")
    ],
    out: Annotated[
        Path, typer.Option("--out", help="Directory for bulletins.md, bulletins.json (OSV) and bulletins.atom.")
    ] = Path("bulletins"),
    consumers: Annotated[
        list[Path] | None,
        typer.Option("--consumers", help="A consumer's JSON audit report (repeatable): list those that must update."),
    ] = None,
    quiet: QuietOpt = False,
) -> None:
    """Provider mode: scan each published image against the vulnerability database and emit bulletins."""
    from shareguard.cli.image import needed_plugin
    from shareguard.core.context import ScanContext
    from shareguard.core.registry import load_registries
    from shareguard.freshness import provider
    from shareguard.image.scan import scan_image
    from shareguard.sources.image.open import open_image_path
    from shareguard.sources.registry.source import open_registry_image

    settings = Settings.from_env()
    today = datetime.now(UTC).date()
    console = stderr_console(quiet)
    try:
        catalog = provider.load_catalog(catalog_file)
        regs = load_registries(builtin_filter=lambda m: needed_plugin(m) and not m.startswith("shareguard.freshness."))
        scans: list[provider.ImageScan] = []
        for img in catalog.images:
            ctx = ScanContext(settings=settings, command="image")
            if img.input is not None:
                result = scan_image(open_image_path(img.input, "linux/amd64"), regs, ctx)
            else:
                with open_registry_image(img.reference, "linux/amd64") as source:
                    result = scan_image(source, regs, ctx)
            scans.append(provider.ImageScan(img, provider.vulnerabilities(result.findings)))
            console.print(f"{escape(img.ref)}: {len(scans[-1].vulns)} known vulnerabilities", highlight=False)
        bulletins = provider.make_bulletins(catalog, scans, today)
        out.mkdir(parents=True, exist_ok=True)
        write_atomically(out / "bulletins.md", provider.render_markdown(catalog, bulletins))
        write_atomically(out / "bulletins.json", provider.render_osv(bulletins))
        write_atomically(out / "bulletins.atom", provider.render_atom(catalog, bulletins, today))
        images = {i.ref: i for i in catalog.images}
        users = provider.consumers_to_update([b for b, _ in bulletins], images, list(consumers or []))
    except ShareguardError as exc:
        raise fail(exc) from None
    console.print(f"{len(bulletins)} bulletin(s) written to {escape(str(out))}", highlight=False)
    for report, image, bulletin in users:
        typer.echo(printable(f"{report}: uses {image}: must update ({bulletin})"))
