"""The `shareguard` application: assembles the sub-command modules."""

from __future__ import annotations

import importlib

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


def build_app() -> typer.Typer:
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

    for name in COMMAND_MODULES:
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as exc:
            if exc.name != name:
                raise
            continue  # a sub-command not built yet
        module.register(app)
    return app


def main() -> None:
    build_app()(prog_name="shareguard")
