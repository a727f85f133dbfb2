"""`shareguard db update|status`: the local OSV vulnerability database."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path
from typing import Annotated, Any

import typer

from shareguard.cli.common import QuietOpt, TableJsonFormatOpt, escape, fail, stderr_console
from shareguard.core.errors import ConfigError, DatabaseError, InputError, ShareguardError
from shareguard.core.masking import mask_url
from shareguard.core.settings import Settings
from shareguard.core.text import printable
from shareguard.vuln.database import DbInfo, default_db_path, describe
from shareguard.vuln.download import default_urls, download
from shareguard.vuln.importer import ImportReport, import_path
from shareguard.vuln.snapshot import install_snapshot, snapshot_info
from shareguard.vuln.store import VulnStore

EXIT_REJECTED = 3
"""Some advisories were malformed: the rest was imported, each bad one printed as a warning."""

db_app = typer.Typer(help="Manage the local vulnerability database (OSV advisories).", no_args_is_help=True)


def register(app: typer.Typer) -> None:
    app.add_typer(db_app, name="db")


FromOpt = Annotated[
    list[str] | None,
    typer.Option(
        "--from",
        help="An OSV all.zip (path or http(s) URL), a directory of OSV .json/.yaml files, or one file. "
        "Repeatable. Default: OSV's all.zip for PyPI, npm, Debian, Ubuntu and Alpine.",
    ),
]


def _open_for_update(path: Path, quiet: bool) -> VulnStore:
    """The user's database, created from the bundled snapshot when missing (so an update of one
    ecosystem never loses the others); a corrupt one is rebuilt."""
    if path.is_file():
        try:
            return VulnStore(path)
        except DatabaseError as exc:
            stderr_console(quiet).print(f"[yellow]warning[/]: {exc.one_line()}; rebuilding it", markup=True)
            path.unlink()
    install_snapshot(path)
    return VulnStore(path)


def _import_one(store: VulnStore, source: str, quiet: bool) -> ImportReport:
    if source.startswith(("http://", "https://")):
        tmp = download(source, store.path.parent)
        try:
            if not zipfile.is_zipfile(tmp):
                raise DatabaseError(
                    "the download is not a zip archive (expected an OSV all.zip)", path=mask_url(source)
                )
            return import_path(store, tmp, label=mask_url(source))
        finally:
            tmp.unlink(missing_ok=True)
    if "://" in source:
        raise InputError("only http(s) URLs and local paths are supported", path=mask_url(source))
    path = Path(source)
    return import_path(store, path, label=str(path.resolve()))


@db_app.command("update")
def update(from_: FromOpt = None, quiet: QuietOpt = False) -> None:
    """Import OSV advisories into the local database (one transaction per source)."""
    err = stderr_console(quiet)
    settings = Settings.from_env()
    path = default_db_path(settings)
    sources = list(from_ or default_urls())
    rejected = 0
    try:
        with _open_for_update(path, quiet) as store:
            for source in sources:
                report = _import_one(store, source, quiet)
                for bad in report.rejected:
                    # One line per malformed advisory; the rest of the source is imported.
                    err.print(
                        f"[yellow]warning[/]: {escape(bad.path)}: {escape(bad.message)}",
                        markup=True,
                        soft_wrap=True,
                        highlight=False,
                    )
                rejected += len(report.rejected)
                if report.imported == 0 and report.withdrawn == 0 and not report.rejected:
                    raise InputError("no OSV advisories found", path=report.source)
                per_eco = ", ".join(f"{k}: {v}" for k, v in sorted(report.by_ecosystem.items()))
                typer.echo(
                    printable(  # ecosystem names come from the advisories, the source from the user
                        f"imported {report.imported} advisories ({per_eco or 'none'}) from {report.source}"
                        + (f"; {report.withdrawn} withdrawn removed" if report.withdrawn else "")
                        + (f"; {len(report.rejected)} rejected" if report.rejected else "")
                    )
                )
    except ShareguardError as exc:
        raise fail(exc) from None
    except OSError as exc:  # a read-only or full cache directory
        raise fail(
            DatabaseError(f"cannot write the vulnerability database: {exc.strerror or exc}", path=str(path))
        ) from None
    if rejected:
        err.print(f"[yellow]warning[/]: {rejected} malformed advisories were skipped", markup=True)
        raise typer.Exit(EXIT_REJECTED)


def _status_doc(info: DbInfo | None, store: VulnStore | None) -> dict[str, Any]:
    snap = snapshot_info()
    doc: dict[str, Any] = {
        "bundled_snapshot": {
            "date": snap.date,
            "source": snap.source,
            "commit": snap.commit,
            "advisories": snap.advisories,
        },
    }
    if info is None or store is None:
        return {"exists": False, **doc}
    advisories, affected = store.counts()
    return {
        "exists": True,
        **info.metadata(),
        "advisories": advisories,
        "affected_entries": affected,
        "ecosystem_counts": store.ecosystem_counts(),
        "imports": [
            {
                "source": s.source,
                "ecosystem": s.ecosystem,
                "imported_at": s.imported_at.isoformat(),
                "advisory_count": s.advisory_count,
                "newest_advisory": s.newest_modified or None,
            }
            for s in info.sources
        ],
        **doc,
    }


@db_app.command("status")
def status(
    format: TableJsonFormatOpt = "table",
    quiet: QuietOpt = False,
) -> None:
    """Show the database's sources, dates, advisory counts and age."""
    err = stderr_console(quiet)
    try:
        if format not in ("table", "json"):
            raise ConfigError(f"--format {format} is not available for `db status` (use table or json)")
        path = default_db_path(Settings.from_env())
        if path.is_file():
            with VulnStore(path) as store:
                info = describe(store)
                doc = _status_doc(info, store)
        else:
            info = None
            doc = _status_doc(None, None)
    except ShareguardError as exc:
        raise fail(exc) from None
    if format == "json":
        typer.echo(json.dumps(doc, indent=2, default=str))
    else:
        typer.echo(_status_table(doc, path))
    if info is not None and info.stale:
        err.print(f"[yellow]warning[/]: {info.stale_message()}", markup=True, highlight=False)
    elif info is None:
        err.print("[yellow]warning[/]: no database yet; scans use the bundled snapshot", markup=True)


def _status_table(doc: dict[str, Any], path: Path) -> str:
    snap = doc["bundled_snapshot"]
    lines = [f"Vulnerability database: {path}"]
    if not doc["exists"]:
        lines.append(
            f"Not created yet: the first scan uses the bundled snapshot ({snap['source']}, "
            f"{snap['date'][:10]}, {snap['advisories']} advisories). Run `shareguard db update` for current data."
        )
        return "\n".join(lines)
    lines.append(
        f"Updated: {doc['updated'][:19].replace('T', ' ')} UTC ({doc['age_days']} days ago)"
        + ("  [STALE: older than 7 days]" if doc["stale"] else "")
    )
    lines.append(f"Advisories: {doc['advisories']} ({doc['affected_entries']} affected packages)")
    for eco, count in doc["ecosystem_counts"].items():
        lines.append(f"  {eco:<12} {count:>8}")
    lines.append("Imports:")
    for imp in doc["imports"]:
        newest = f", newest advisory {imp['newest_advisory'][:10]}" if imp["newest_advisory"] else ""
        lines.append(
            f"  {imp['imported_at'][:19].replace('T', ' ')}  {imp['ecosystem']:<10} {imp['advisory_count']:>7}  "
            f"{imp['source']}{newest}"
        )
    return "\n".join(lines)
