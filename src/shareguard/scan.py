"""The documented Python API: scan a path with the registered analyzers.

from shareguard.scan import run_path_scan
result = run_path_scan(Path("examples/ml-platform"))
for finding in result.failing(): print(finding.rule_id, finding.resource.path)
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from shareguard.core import project_config
from shareguard.core.analyzer import FileAnalyzer
from shareguard.core.context import ScanContext
from shareguard.core.engine import scan_entries
from shareguard.core.registry import Registries, load_registries
from shareguard.core.result import ScanResult
from shareguard.core.settings import Settings
from shareguard.sources.workspace import check_target, walk

if TYPE_CHECKING:
    from shareguard.cli.common import OutputOptions


def capability_filter(capabilities: frozenset[str] | None) -> Callable[[FileAnalyzer], bool] | None:
    """Analyzer names are `<capability>.<what>`; `config` keeps `posture.*`, `models` keeps `models.*`."""
    if capabilities is None:
        return None
    return lambda a: a.name.split(".", 1)[0] in capabilities


def run_path_scan(
    path: Path,
    *,
    command: str = "audit",
    capabilities: frozenset[str] | None = None,
    options: dict[str, Any] | None = None,
    registries: Registries | None = None,
    settings: Settings | None = None,
    quiet: bool = True,
) -> ScanResult:
    """Walk `path` and run every (or the selected capabilities') file analyzer on it."""
    from shareguard.cli.common import progress

    check_target(path)
    regs = registries or load_registries()
    root = path if path.is_dir() else path.parent
    # `.shareguard.yaml` in the scanned root sets defaults; explicit options win.
    merged = {**project_config.load(root).options(), **(options or {})}
    ctx = ScanContext(settings=settings or Settings.from_env(), root=root, options=merged)
    # Finding paths are relative to this root; SARIF and HTML reports say so.
    ctx.metadata["scan_root"] = str(root)
    with progress(quiet, f"{command} {path}") as prog:
        task = prog.task_ids[0]
        return scan_entries(
            command,
            str(path),
            walk(path, ctx),
            regs,
            ctx,
            analyzer_filter=capability_filter(capabilities),
            on_entry=lambda e: prog.advance(task),
        )


def scan_path(
    path: Path,
    opts: OutputOptions,
    *,
    command: str,
    capabilities: frozenset[str] | None = None,
    options: dict[str, Any] | None = None,
    postprocess: Callable[[ScanResult], ScanResult] | None = None,
    plugins: Callable[[str], bool] | None = None,
) -> int:
    """CLI helper: scan, then emit the report; returns the exit code.

    `postprocess` sees the result before waivers and reporting (e.g. `config --baseline`); `plugins`
    selects the built-in plugin modules the command needs (default: all; see `load_registries`)."""
    from shareguard.cli.common import emit, select_reporter

    regs = load_registries(builtin_filter=plugins)
    select_reporter(regs, opts, command)  # a bad --format fails before any work
    result = run_path_scan(
        path, command=command, capabilities=capabilities, options=options, registries=regs, quiet=opts.quiet
    )
    if postprocess is not None:
        result = postprocess(result)
    root = path if path.is_dir() else path.parent
    return emit(result, opts, regs, scan_root=root)
