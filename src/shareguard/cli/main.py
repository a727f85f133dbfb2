"""The `shareguard` application: assembles the sub-command modules."""

from __future__ import annotations

import gc
import importlib
import sys
from collections.abc import Sequence

import typer

from shareguard import __version__

# Each module exposes `register(app)`; one module per sub-command.
COMMAND_MODULES: tuple[str, ...] = (
    "shareguard.cli.controls",
    "shareguard.cli.audit",
    "shareguard.cli.image",
    "shareguard.cli.rootfs",
    "shareguard.cli.db",
    "shareguard.cli.config",
    "shareguard.cli.models",
)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"shareguard {__version__}")
        raise typer.Exit()


def modules_for(argv: Sequence[str] | None) -> tuple[str, ...]:
    """The sub-command modules a command line needs: only its command's, when argv names one.

    Importing every sub-command (and what it imports: image sources, the vulnerability store, rich
    tables…) is most of the start-up of a short run; help, `--version` and unknown commands still get
    every module, so `shareguard --help` lists them all and a typo gets typer's usual error."""
    if argv:
        wanted = f"shareguard.cli.{argv[0]}"
        if wanted in COMMAND_MODULES:
            return (wanted,)
    return COMMAND_MODULES


def build_app(argv: Sequence[str] | None = None) -> typer.Typer:
    """The application; with `argv` (the command line after the program name), only what it runs is imported."""
    app = typer.Typer(
        name="shareguard",
        help="Check the customer's half of the cloud shared-responsibility model for ML workloads.",
        no_args_is_help=True,
        add_completion=False,
        pretty_exceptions_enable=False,
    )

    @app.callback()
    def _root(
        version: bool = typer.Option(False, "--version", callback=_version, is_eager=True, help="Show the version."),
    ) -> None:
        """shareguard: scan images, configuration and model files; roll findings up to the duties they break."""

    for name in modules_for(argv):
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as exc:
            if exc.name != name:
                raise
            continue  # a sub-command not built yet
        module.register(app)
    return app


def main() -> None:
    app = build_app(sys.argv[1:])
    # A scan keeps many long-lived, acyclic objects (findings, facts, parsed documents); with the default
    # thresholds the cyclic collector re-walks them all again and again (≈10-15 % of a `config` run). Cycles
    # are still collected, just less often (as mypy does); objects of start-up are never garbage.
    gc.freeze()
    gc.set_threshold(200_000, 30, 30)
    app(prog_name="shareguard")
