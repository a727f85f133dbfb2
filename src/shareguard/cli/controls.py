"""`shareguard controls`: list the shared-responsibility duties; `controls show ID`: one duty in full."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated, Any

import typer
from rich import box
from rich.console import Console
from rich.table import Table
from rich.text import Text

from shareguard.catalog import Catalog, Control, load_catalog
from shareguard.catalog.coverage import rules_for_control
from shareguard.catalog.query import (
    FRAMEWORK_ALIASES,
    mapped_requirements,
    parse_owner,
    resolve_framework,
    select_controls,
)
from shareguard.cli.common import fail
from shareguard.core.errors import ConfigError, ShareguardError
from shareguard.core.registry import Registries, load_registries
from shareguard.core.rules import RuleMeta

PLAIN_WIDTH = 120
"""Width when stdout is not a terminal (pipes, files, tests)."""

SUMMARY_FAMILIES: tuple[tuple[str, str], ...] = (
    ("cis-aws", "CIS-AWS"),
    ("cis-gcp", "CIS-GCP"),
    ("nist", "NIST"),
    ("iso", "ISO"),
)
"""Framework families shown in the compact summary column (newest version of each)."""

CatalogOpt = Annotated[
    Path | None,
    typer.Option(
        "--catalog", help="Use the catalog in DIR (with services/ and frameworks/) instead of the bundled one."
    ),
]
ControlsFormatOpt = Annotated[str, typer.Option("--format", "-f", help="Output format: table or json.")]


def register(app: typer.Typer) -> None:
    app.add_typer(build_controls_app(), name="controls")


def build_controls_app() -> typer.Typer:
    sub = typer.Typer(
        invoke_without_command=True,
        add_completion=False,
        pretty_exceptions_enable=False,
        help="List the duties of the shared-responsibility catalog, or show one with the rules that check it.",
    )
    sub.callback()(list_controls)
    sub.command("show")(show_control)
    return sub


def _console() -> Console:
    return Console(width=None if sys.stdout.isatty() else PLAIN_WIDTH, highlight=False, soft_wrap=False)


def _check_format(fmt: str) -> str:
    fmt = fmt.lower()
    if fmt not in ("table", "json"):
        raise ConfigError(f"--format {fmt} is not available for `controls` (use table or json)")
    return fmt


def _catalog(ctx: typer.Context, path: Path | None) -> Catalog:
    if path is None and isinstance(ctx.obj, dict):
        path = ctx.obj.get("catalog")
    return load_catalog(path)


def list_controls(
    ctx: typer.Context,
    service: Annotated[
        str | None, typer.Option("--service", help="Only this service (dlc, dlvm, dataflow, iam, ...).")
    ] = None,
    owner: Annotated[
        str | None, typer.Option("--owner", help="Only duties of this owner: customer or provider.")
    ] = None,
    framework: Annotated[
        str | None,
        typer.Option(
            "--framework",
            help="Only duties mapped to this framework, with its requirement ids: a key (nist-800-53-rev5) or "
            f"an alias ({', '.join(sorted(FRAMEWORK_ALIASES))}).",
        ),
    ] = None,
    shared: Annotated[
        bool,
        typer.Option(
            "--shared/--no-shared", help="With --service, also list the shared services it rests on (iam, logging...)."
        ),
    ] = True,
    format: ControlsFormatOpt = "table",
    catalog_dir: CatalogOpt = None,
) -> None:
    """List the duties (controls): id, service, owner, title and their framework requirements."""
    ctx.obj = {"catalog": catalog_dir}
    if ctx.invoked_subcommand is not None:
        return
    try:
        fmt = _check_format(format)
        catalog = load_catalog(catalog_dir)
        fw_key = resolve_framework(catalog, framework) if framework is not None else None
        controls = select_controls(
            catalog,
            service=service,
            owner=parse_owner(owner) if owner is not None else None,
            framework=fw_key,
            include_shared=shared,
        )
    except ShareguardError as exc:
        raise fail(exc) from None
    if fmt == "json":
        _write_json([control_dict(c) for c in controls])
        return
    _console().print(_list_table(catalog, controls, fw_key))


def show_control(
    ctx: typer.Context,
    control_id: Annotated[str, typer.Argument(metavar="ID", help="Control id, e.g. DATAFLOW-C-04.")],
    format: ControlsFormatOpt = "table",
    catalog_dir: CatalogOpt = None,
) -> None:
    """Show one duty in full: description, rationale, vendor source, framework requirements and the rules that
    check it."""
    try:
        fmt = _check_format(format)
        catalog = _catalog(ctx, catalog_dir)
        control = catalog.control(control_id)
        rules = rules_for_control(_registries(), control.id)
    except ShareguardError as exc:
        raise fail(exc) from None
    if fmt == "json":
        _write_json(show_dict(catalog, control, rules))
        return
    _render_show(_console(), catalog, control, rules)


def _registries() -> Registries:
    """The registries of a normal run (built-in plugins and installed third-party ones)."""
    return load_registries()


def control_dict(c: Control) -> dict[str, Any]:
    return {
        "id": c.id,
        "service": c.service,
        "owner": c.owner.value,
        "title": c.title,
        "description": c.description,
        "rationale": c.rationale,
        "source": c.source,
        "references": list(c.references),
        "frameworks": {k: list(v) for k, v in c.frameworks.items()},
    }


def show_dict(catalog: Catalog, c: Control, rules: list[RuleMeta]) -> dict[str, Any]:
    out = control_dict(c)
    out["service_name"] = catalog.service(c.service).name
    out["requirements"] = [
        {"framework": m.framework, "id": m.requirement.id, "title": m.requirement.title}
        for m in mapped_requirements(catalog, c)
    ]
    out["rules"] = [
        {"id": r.id, "title": r.title, "severity": r.severity.value, "control_ids": list(r.control_ids)} for r in rules
    ]
    return out


def _write_json(doc: Any) -> None:
    sys.stdout.write(json.dumps(doc, indent=2) + "\n")
    sys.stdout.flush()


def _summary(catalog: Catalog, c: Control) -> str:
    parts: list[str] = []
    for alias, label in SUMMARY_FAMILIES:
        try:
            key = resolve_framework(catalog, alias)
        except ShareguardError:
            continue
        if c.frameworks.get(key):
            parts.append(f"{label} {len(c.frameworks[key])}")
    return " · ".join(parts) or "-"


def _list_table(catalog: Catalog, controls: list[Control], fw_key: str | None) -> Table | Text:
    if not controls:
        return Text("no duty matches these filters", style="yellow")
    table = Table(box=box.SIMPLE_HEAD, show_lines=False, pad_edge=False)
    table.add_column("ID", no_wrap=True, style="bold")
    table.add_column("Service", no_wrap=True)
    table.add_column("Owner", no_wrap=True)
    table.add_column("Title", ratio=3, overflow="fold")
    table.add_column(fw_key or "Frameworks (requirements mapped)", ratio=1)
    for c in controls:
        fw_cell = ", ".join(c.frameworks.get(fw_key, ())) if fw_key else _summary(catalog, c)
        owner_style = "cyan" if c.owner.value == "customer" else "dim"
        table.add_row(c.id, c.service, Text(c.owner.value, style=owner_style), c.title, fw_cell)
    return table


def _render_show(console: Console, catalog: Catalog, c: Control, rules: list[RuleMeta]) -> None:
    svc = catalog.service(c.service)
    console.print(Text.assemble((c.id, "bold"), "  ", c.title))
    fields = Table.grid(padding=(0, 2))
    fields.add_column(style="dim", no_wrap=True)
    fields.add_column()
    fields.add_row("service", f"{svc.service} ({svc.name})")
    fields.add_row("owner", c.owner.value)
    if c.description:
        fields.add_row("description", c.description)
    if c.rationale:
        fields.add_row("rationale", c.rationale)
    if c.source:
        fields.add_row("source", c.source)
    for i, ref in enumerate(c.references):
        fields.add_row("see also" if i == 0 else "", ref)
    console.print(fields)
    reqs = mapped_requirements(catalog, c)
    if reqs:
        table = Table(title="Framework requirements", title_justify="left", box=box.SIMPLE_HEAD, pad_edge=False)
        table.add_column("Framework", no_wrap=True)
        table.add_column("Id", no_wrap=True)
        table.add_column("Requirement")
        for m in reqs:
            table.add_row(m.framework, m.requirement.id, m.requirement.title)
        console.print(table)
    elif c.owner.value == "customer":
        console.print(Text("no framework requirement is mapped to this duty", style="yellow"))
    if rules:
        table = Table(title="Rules that check it", title_justify="left", box=box.SIMPLE_HEAD, pad_edge=False)
        table.add_column("Rule", no_wrap=True)
        table.add_column("Severity", no_wrap=True)
        table.add_column("Title")
        for r in rules:
            table.add_row(r.id, r.severity.value, r.title)
        console.print(table)
    else:
        console.print(Text("no rule checks this duty yet: scans report it as not assessed", style="yellow"))
