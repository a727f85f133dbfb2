"""What `audit`, `config` and `models` share: scan a path with `shareguard.scan`, then emit the report."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from shareguard.cli.common import OutputOptions, check_before_scan, emit
from shareguard.core.options import OptionSet
from shareguard.core.registry import load_registries
from shareguard.core.result import ScanResult
from shareguard.scan import run_path_scan


def scan_path(
    path: Path,
    opts: OutputOptions,
    *,
    command: str,
    capabilities: frozenset[str] | None = None,
    options: OptionSet | None = None,
    postprocess: Callable[[ScanResult], ScanResult] | None = None,
    plugins: Callable[[str], bool] | None = None,
) -> int:
    """Scan, then emit the report; returns the exit code.

    `postprocess` sees the result before waivers and reporting (e.g. `config --baseline`); `plugins`
    selects the built-in plugin modules the command needs (default: all; see `load_registries`)."""
    regs = load_registries(builtin_filter=plugins)
    root = path if path.is_dir() else path.parent
    check_before_scan(regs, opts, command, root)  # a bad --format or waiver file fails before any work
    result = run_path_scan(
        path, command=command, capabilities=capabilities, options=options, registries=regs, quiet=opts.quiet
    )
    if postprocess is not None:
        result = postprocess(result)
    return emit(result, opts, regs, scan_root=root)
