"""The `shareguard` application: assembles the sub-command modules."""

from __future__ import annotations

import gc
import importlib
import sys
from collections.abc import Sequence
from typing import Any

import typer
from typer.core import TyperGroup

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
    "shareguard.cli.catalog",
    "shareguard.cli.bulletins",
    "shareguard.cli.data",
    "shareguard.cli.logs",
)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"shareguard {__version__}")
        raise typer.Exit()


def modules_for(argv: Sequence[str] | None) -> tuple[str, ...]:
    """The sub-command modules a command line needs: only its command's, when argv names one.

    Importing every sub-command (and what it imports: image sources, the vulnerability store, rich
    tables…) is most of the start-up of a short run; help and unknown commands still get every module,
    so `shareguard --help` lists them all and a typo gets typer's usual error. A line that starts with
    `--version` needs none: that eager option is processed first and ends the run before any command."""
    if argv and argv[0] == "--version":
        return ()
    if argv:
        wanted = f"shareguard.cli.{argv[0]}"
        if wanted in COMMAND_MODULES:
            return (wanted,)
    return COMMAND_MODULES


EXIT_USAGE = 2
"""A usage error (unknown option or command, bad or missing value): one line on stderr."""

# click's exceptions, wherever this typer takes click from (typer ≥ 0.22 vendors it as `typer._click`).
_CLICK_EXCEPTIONS: Any = importlib.import_module(typer.BadParameter.__module__)
_USAGE_ERROR: type[Exception] = _CLICK_EXCEPTIONS.UsageError
# click ≥ 8.2 reports `no_args_is_help` as a UsageError carrying the help text: shown as it is.
_NO_ARGS_IS_HELP: tuple[type[Exception], ...] = tuple(
    cls for cls in (getattr(_CLICK_EXCEPTIONS, "NoArgsIsHelpError", None),) if cls is not None
)


def usage_error_line(exc: Any) -> str:
    """`error: <message> (try 'shareguard CMD --help')` for a click UsageError, always one line."""
    message = " ".join(str(exc.format_message()).split())
    ctx = getattr(exc, "ctx", None)
    hint = f" (try '{ctx.command_path} --help')" if ctx is not None else ""
    return f"error: {message}{hint}"


class _RootGroup(TyperGroup):
    """The root command: every usage error, of any sub-command at any depth, is one line and exit 2.

    click/typer print a usage box instead; the README promises one line. The root's own options are
    parsed in `make_context`, everything below it (sub-command names, their options and values,
    `BadParameter` raised by a command) inside `invoke`."""

    def make_context(self, info_name: Any, args: Any, parent: Any = None, **extra: Any) -> Any:
        try:
            return super().make_context(info_name, args, parent, **extra)
        except _USAGE_ERROR as exc:
            raise _usage_exit(exc) from None

    def invoke(self, ctx: Any) -> Any:
        try:
            return super().invoke(ctx)
        except _USAGE_ERROR as exc:
            raise _usage_exit(exc) from None


def _usage_exit(exc: Exception) -> Exception:
    """The exception that ends the run: `exc` itself for a help screen, else exit 2 after one line."""
    if isinstance(exc, _NO_ARGS_IS_HELP):
        return exc
    typer.echo(usage_error_line(exc), err=True)
    return typer.Exit(EXIT_USAGE)


def _plain_help(app: typer.Typer) -> None:
    """Help texts are plain text, in every sub-command at any depth.

    typer ≥ 0.12 parses help as rich markup by default when rich is installed: `os/arch[/variant]`
    crashes `--help` and `[registry/]` silently disappears."""
    app.rich_markup_mode = None
    for group in app.registered_groups:
        if group.typer_instance is not None:
            _plain_help(group.typer_instance)


def build_app(argv: Sequence[str] | None = None) -> typer.Typer:
    """The application; with `argv` (the command line after the program name), only what it runs is imported."""
    app = typer.Typer(
        name="shareguard",
        help="Check the customer's half of the cloud shared-responsibility model for ML workloads.",
        no_args_is_help=True,
        add_completion=False,
        pretty_exceptions_enable=False,
        rich_markup_mode=None,
        cls=_RootGroup,
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
    _plain_help(app)
    return app


def main() -> None:
    # A scan keeps many long-lived, acyclic objects (findings, facts, parsed documents); with the default
    # thresholds the cyclic collector re-walks them all again and again (≈10-15 % of a `config` run). Cycles
    # are still collected, just less often (as mypy does); objects of start-up are never garbage, so the
    # threshold is raised before the imports (which allocate ~10^5 of them: classes, functions, data).
    gc.set_threshold(200_000, 30, 30)
    app = build_app(sys.argv[1:])
    gc.freeze()
    app(prog_name="shareguard")
