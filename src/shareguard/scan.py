"""The documented Python API: scan a path with the registered analyzers.

from shareguard.scan import run_path_scan
result = run_path_scan(Path("examples/ml-platform"))
for finding in result.failing(): print(finding.rule_id, finding.resource.path)
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import replace
from pathlib import Path

from shareguard.core import project_config
from shareguard.core.analyzer import FileAnalyzer
from shareguard.core.context import ScanContext
from shareguard.core.engine import scan_entries
from shareguard.core.entry import FileEntry
from shareguard.core.memo import scan_memos
from shareguard.core.options import OptionSet
from shareguard.core.progress import progress
from shareguard.core.registry import Registries, load_registries
from shareguard.core.result import ScanResult
from shareguard.core.settings import Budgets, Settings
from shareguard.freshness.options import FreshnessOptions
from shareguard.posture.options import PostureOptions
from shareguard.sources.workspace import check_target, walk


def capability_filter(capabilities: frozenset[str] | None) -> Callable[[FileAnalyzer], bool] | None:
    """Analyzer names are `<capability>.<what>`; `config` keeps `posture.*`, `models` keeps `models.*`."""
    if capabilities is None:
        return None
    return lambda a: a.name.split(".", 1)[0] in capabilities


def with_project_config(options: OptionSet, project: project_config.ProjectConfig) -> OptionSet:
    """The posture options with `.shareguard.yaml`'s settings wherever the command line set none."""
    given = options.get(PostureOptions)
    fresh = options.get(FreshnessOptions)
    return options.with_(
        replace(fresh, long_running_days=fresh.long_running_days or project.long_running_days),
        replace(
            given,
            fips_required=project.fips_required if given.fips_required is None else given.fips_required,
            trusted_registries=given.trusted_registries or project.trusted_registries,
            long_running_days=given.long_running_days or project.long_running_days,
        ),
    )


def run_path_scan(
    path: Path,
    *,
    command: str = "audit",
    capabilities: frozenset[str] | None = None,
    options: OptionSet | None = None,
    registries: Registries | None = None,
    settings: Settings | None = None,
    quiet: bool = True,
) -> ScanResult:
    """Walk `path` and run every (or the selected capabilities') file analyzer on it."""
    check_target(path)
    regs = registries or load_registries()
    root = path if path.is_dir() else path.parent
    # `.shareguard.yaml` in the scanned root sets defaults; explicit options win.
    project = project_config.load(root, _yaml_document)
    ctx = ScanContext(
        settings=settings or Settings.from_env(),
        root=root,
        options=with_project_config(options or OptionSet(), project),
        command=command,
    )
    if project.path is not None:
        ctx.metadata["project_config"] = project.path
    # Finding paths are relative to this root; SARIF and HTML reports say so.
    ctx.metadata["scan_root"] = str(root)
    # Memos over scanned text (which holds secrets) are this scan's, dropped when it returns.
    with scan_memos(), progress(quiet, f"{command} {path}") as prog:
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


def _yaml_document(text: str, origin: str, budgets: Budgets) -> project_config.ConfigDocument:
    """`.shareguard.yaml` is read with the posture capability's YAML loader (budgets, line numbers); it is
    imported only when the file exists."""
    from shareguard.posture.parsers.yaml_safe import load_one

    return load_one(text, origin, budgets)


def run_url_scan(
    url: str,
    *,
    command: str = "data",
    options: OptionSet | None = None,
    registries: Registries | None = None,
    settings: Settings | None = None,
) -> ScanResult:
    """Scan the objects under an object-store URL (`s3://bucket/prefix`, `gs://…`) with the sensitive-data
    analyzer; an object that cannot be read is an error for that object, the scan goes on."""
    from shareguard.sensitive.objstore import entries
    from shareguard.sensitive.options import SensitiveOptions

    regs = registries or load_registries()
    opts = options or OptionSet()
    ctx = ScanContext(settings=settings or Settings.from_env(), options=opts, command=command)
    ctx.metadata["scan_root"] = url
    max_bytes = opts.get(SensitiveOptions).max_bytes_per_object

    def readable() -> Iterator[FileEntry]:
        for item in entries(url, max_bytes):
            if isinstance(item, FileEntry):
                yield item
            else:
                key, message = item
                ctx.error(key, message, "sensitive.files")

    with scan_memos():
        return scan_entries(
            command, url, readable(), regs, ctx, analyzer_filter=capability_filter(frozenset({"sensitive"}))
        )
