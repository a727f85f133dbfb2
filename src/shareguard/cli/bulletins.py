"""`shareguard bulletins update|show`: vendors' security-bulletin feeds (Atom, RSS, OSV JSON) in a local database;
audits then say which bulletin affects which image or job."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from shareguard.cli.common import QuietOpt, TableJsonFormatOpt, escape, fail, stderr_console
from shareguard.core.errors import CatalogError, ShareguardError, UnknownIdError
from shareguard.core.settings import Settings
from shareguard.core.text import printable
from shareguard.freshness import bulletins

DEFAULT_FEEDS = (
    "https://aws.amazon.com/security/security-bulletins/rss/feed/",
    "https://cloud.google.com/feeds/gcp-security-bulletins.xml",
)
"""AWS security bulletins (RSS) and Google Cloud security bulletins (Atom)."""

bulletins_app = typer.Typer(
    help="Vendors' security bulletins (Atom, RSS, OSV JSON): update, show.", no_args_is_help=True
)


def register(app: typer.Typer) -> None:
    app.add_typer(bulletins_app, name="bulletins")


@bulletins_app.command("update")
def update_cmd(
    sources: Annotated[
        list[str] | None,
        typer.Option(
            "--from",
            help="A feed file or http(s) URL (Atom, RSS or OSV JSON); repeatable. Default: AWS and Google Cloud bulletin feeds.",
        ),
    ] = None,
    quiet: QuietOpt = False,
) -> None:
    """Ingest feeds into the local bulletin database; a feed that cannot be fetched or parsed changes nothing."""
    from shareguard.freshness.update import fetch

    settings = Settings.from_env()
    console = stderr_console(quiet)
    try:
        current = bulletins.load(settings)
        new: list[bulletins.Bulletin] = []
        for src in sources or list(DEFAULT_FEEDS):
            if src.startswith(("http://", "https://")):
                data = fetch(src, settings)
            else:
                path = Path(src)
                if not path.is_file():
                    raise CatalogError("no such file", path=src)
                if path.stat().st_size > bulletins.MAX_FEED_BYTES:
                    raise CatalogError(f"feed over the {bulletins.MAX_FEED_BYTES}-byte budget", path=src)
                data = path.read_bytes()
            parsed = bulletins.parse_feed(data, src)
            console.print(f"{escape(src)}: {len(parsed)} bulletin(s)", highlight=False)
            new.extend(parsed)
        merged = bulletins.merge(current, new)
        bulletins.save(settings, merged)
    except ShareguardError as exc:
        console.print("the previous bulletin data is left in place", highlight=False)
        raise fail(exc) from None
    console.print(
        f"the bulletin database holds {len(merged)} bulletin(s): {escape(str(bulletins.db_path(settings)))}",
        highlight=False,
    )


@bulletins_app.command("show")
def show_cmd(
    format: TableJsonFormatOpt = "table",
) -> None:
    """List the bulletins in the local database."""
    if format not in ("table", "json"):
        raise fail(UnknownIdError(f"unknown format {format!r} (known: json, table)"))
    try:
        items = bulletins.load(Settings.from_env())
    except ShareguardError as exc:
        raise fail(exc) from None
    if format == "json":
        from dataclasses import asdict

        typer.echo(json.dumps([asdict(b) for b in items], indent=2))
        return
    for b in items:
        affected = ", ".join(a.product + (":" + "|".join(a.versions) if a.versions else "") for a in b.affected)
        typer.echo(printable(f"{b.published}  {b.id}  {', '.join(b.cves[:5])}  {affected}  {b.title[:80]}"))
