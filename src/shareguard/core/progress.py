"""The progress bar long work shows on stderr (only on a terminal, never with --quiet).

Here rather than in `cli/` so the Python API (`shareguard.scan`) and capabilities can show one without
importing the command-line layer; `cli.common` re-exports it. rich is imported only when a bar is shown.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, Protocol

from shareguard.core.text import printable


class ProgressBar(Protocol):
    """What commands use of rich's `Progress`: one task, advanced as work is done."""

    @property
    def task_ids(self) -> list[Any]: ...

    def advance(self, task_id: Any, advance: float = 1) -> None: ...


class _NoProgress:
    """Stands in for the bar when it is not shown (not a terminal, or --quiet): no rich import, no work."""

    @property
    def task_ids(self) -> list[Any]:
        return [0]

    def advance(self, task_id: Any, advance: float = 1) -> None:
        pass


@contextmanager
def progress(quiet: bool, description: str, total: int | None = None) -> Iterator[ProgressBar]:
    """A progress bar on stderr, only when stderr is a terminal and not --quiet."""
    if quiet or not sys.stderr.isatty():
        yield _NoProgress()
        return
    from rich.console import Console
    from rich.markup import escape
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

    prog = Progress(
        SpinnerColumn(),
        TextColumn("[progress.description]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=Console(stderr=True, highlight=False),
        transient=True,
    )
    with prog:
        # User content (paths, image references): control characters shown escaped, `[x]` not markup.
        prog.add_task(escape(printable(description)), total=total)
        yield prog
