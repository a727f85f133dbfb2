"""`shareguard data --runner …`: the same file analyzer as an Apache Beam pipeline.

The driver lists the objects (a workspace walk or an object-store listing, as the plain run does); the
pipeline reshuffles them over the workers, and each worker runs `SensitiveAnalyzer` (the same code the plain
run uses) on each object and writes one JSON line per object: its masked findings, the coverage calls it made
(`core.dispatch.RecordingCoverage`, replayed by the driver as an image layer's records are) and its issues.
The driver reads the lines back and builds the usual `ScanResult`, so every report format works unchanged.

Runners: `direct` (local, offline, several worker processes: `--workers`), `dataflow`, `flink`, `spark`
(their own options through `--beam-option KEY=VALUE`; the objects must then be readable by the workers, e.g.
a `gs://` or `s3://` URL, and `temp_location` must name storage both sides can reach).
"""

from __future__ import annotations

import importlib
import json
import os
import tempfile
import uuid
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import asdict
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from shareguard.core.context import ScanContext, ScanIssue
from shareguard.core.dispatch import COVERAGE_CALLS, RecordingCoverage
from shareguard.core.engine import analyze_entry, declare_scopes, finish
from shareguard.core.entry import FileEntry
from shareguard.core.errors import ConfigError, InputError
from shareguard.core.files import read_regular
from shareguard.core.finding import Finding
from shareguard.core.options import OptionSet
from shareguard.core.registry import Registries
from shareguard.core.result import ScanResult
from shareguard.core.settings import Settings
from shareguard.sensitive.analyzer import SensitiveAnalyzer
from shareguard.sensitive.catalog import Confidence
from shareguard.sensitive.objstore import is_url, list_objects
from shareguard.sensitive.options import SensitiveOptions

RUNNERS = {"direct": "DirectRunner", "dataflow": "DataflowRunner", "flink": "FlinkRunner", "spark": "SparkRunner"}

Item = tuple[str, str, int]
"""(key shown in findings, where to read it: a local path or an object URL, size)."""


def _options_dict(opts: SensitiveOptions) -> dict[str, Any]:
    d = asdict(opts)
    d["min_confidence"] = opts.min_confidence.label
    return d


def _options_from(d: dict[str, Any]) -> SensitiveOptions:
    return SensitiveOptions(**{**d, "min_confidence": Confidence.parse(d["min_confidence"])})


def scan_item(item: Item, opts_dict: dict[str, Any], protocol: str | None) -> str:
    """One object through the analyzer: the JSON line the driver replays (also run by the workers)."""
    key, where, size = item
    opts = _options_from(opts_dict)
    calls: list[tuple[str, tuple[object, ...]]] = []
    ctx = ScanContext(
        settings=Settings.from_env(), options=OptionSet().with_(opts), command="data", coverage=RecordingCoverage(calls)
    )
    analyzer = SensitiveAnalyzer()
    findings: list[Finding] = []
    try:
        data = _read(where, protocol, opts.max_bytes_per_object)
    except (OSError, InputError) as exc:
        ctx.error(key, f"cannot read object ({type(exc).__name__}: {' '.join(str(exc).split())[:200]})", analyzer.name)
    else:
        analyze_entry(analyzer, FileEntry(rel_path=key, size=size, data=data), ctx, findings)
    return json.dumps(
        {
            "findings": [f.model_dump(mode="json") for f in findings],
            "coverage": [[m, list(a)] for m, a in calls],
            "issues": [asdict(i) for i in ctx.issues],
            "summary": ctx.metadata.get("sensitive_summary", {}),
        }
    )


def _read(where: str, protocol: str | None, max_bytes: int) -> bytes:
    if protocol is None:
        try:
            return read_regular(where, max_bytes + 1)
        except InputError as exc:
            if "budget" not in str(exc):
                raise
        with open(where, "rb") as fh:  # over the budget: the analyzer scans the first max_bytes and says so
            return fh.read(max_bytes + 1)
    import fsspec

    with fsspec.open(where, "rb") as fh:
        data: bytes = fh.read(max_bytes + 1)
    return data


def _items(target: str, ctx: ScanContext) -> tuple[list[Item], str | None]:
    if is_url(target):
        _fs, objects = list_objects(target)
        protocol = target.split("://", 1)[0]
        return [(o.key, f"{protocol}://{o.full}", o.size) for o in objects if o.size > 0], protocol
    from shareguard.sources.workspace import check_target, walk

    path = Path(target)
    check_target(path)
    items = [(e.rel_path, str(e.abs_path), e.size) for e in walk(path, ctx) if e.abs_path is not None and e.size > 0]
    return items, None


def pipeline_flags(runner: str, workers: int, beam_options: Sequence[str]) -> list[str]:
    if runner not in RUNNERS:
        raise ConfigError(f"unknown runner {runner!r} (one of {', '.join(RUNNERS)})")
    flags = [f"--runner={RUNNERS[runner]}"]
    if runner == "direct":
        flags += [f"--direct_num_workers={max(1, workers)}", "--direct_running_mode=multi_processing"]
    for opt in beam_options:
        if "=" not in opt:
            raise ConfigError(f"--beam-option wants KEY=VALUE, got {opt!r}")
        k, v = opt.split("=", 1)
        flags.append(f"--{k.lstrip('-')}={v}")
    return flags


def _temp_location(flags: list[str]) -> str | None:
    for f in flags:
        if f.startswith("--temp_location="):
            return f.split("=", 1)[1].rstrip("/")
    return None


def run_beam_scan(
    target: str,
    *,
    runner: str = "direct",
    workers: int = 2,
    options: OptionSet | None = None,
    beam_options: Sequence[str] = (),
    registries: Registries,
    settings: Settings | None = None,
) -> ScanResult:
    """Scan `target` (a path or object-store URL) with the Beam pipeline; the result equals the plain run's."""
    try:
        beam: Any = importlib.import_module("apache_beam")
        pipeline_options: Any = importlib.import_module("apache_beam.options.pipeline_options")
    except ImportError:
        raise ConfigError("--runner needs Apache Beam: pip install 'shareguard[beam]'") from None
    opts = (options or OptionSet()).get(SensitiveOptions)
    settings = settings or Settings.from_env()
    ctx = ScanContext(settings=settings, options=(options or OptionSet()).with_(opts), command="data")
    ctx.metadata["scan_root"] = target
    ctx.metadata["beam_runner"] = RUNNERS.get(runner, runner)
    analyzer = SensitiveAnalyzer()
    declare_scopes([analyzer], ctx)
    started = datetime.now(UTC)
    flags = pipeline_flags(runner, workers, beam_options)
    items, protocol = _items(target, ctx)
    remote_tmp = _temp_location(flags)
    local_tmp: str | None = None
    if remote_tmp is None:
        settings.cache_dir.mkdir(parents=True, exist_ok=True)
        local_tmp = tempfile.mkdtemp(prefix="beam-", dir=settings.cache_dir)
        prefix = os.path.join(local_tmp, "objects")
    else:
        prefix = f"{remote_tmp}/shareguard-{uuid.uuid4().hex}/objects"
    opts_dict = _options_dict(opts)
    try:
        if items:
            with beam.Pipeline(options=pipeline_options.PipelineOptions(flags)) as p:
                _ = (
                    p
                    | "Objects" >> beam.Create(items)
                    | "Spread" >> beam.Reshuffle()
                    | "Detect" >> beam.Map(scan_item, opts_dict, protocol)
                    | "Write" >> beam.io.WriteToText(prefix, file_name_suffix=".jsonl")
                )
        findings = _replay(_lines(prefix), ctx)
    finally:
        if local_tmp is not None:
            _remove_tree(Path(local_tmp))
    return finish("data", target, started, sorted(findings, key=_order), registries, ctx)


def _order(f: Finding) -> tuple[str, int, int, str]:
    loc = f.location
    return (f.resource.path, loc.line or 0, loc.column or 0, f.rule_id)


def _lines(prefix: str) -> Iterator[str]:
    import fsspec

    for of in fsspec.open_files(prefix + "*.jsonl", "rt", encoding="utf-8"):
        with of as fh:
            yield from (line for line in fh if line.strip())


def _replay(lines: Iterable[str], ctx: ScanContext) -> list[Finding]:
    findings: list[Finding] = []
    records = sorted((json.loads(line) for line in lines), key=lambda r: json.dumps(r["findings"][:1]))
    for rec in records:
        findings.extend(Finding.model_validate(f) for f in rec["findings"])
        for method, args in rec["coverage"]:
            if method not in COVERAGE_CALLS:
                continue
            getattr(ctx.coverage, method)(*[tuple(a) if isinstance(a, list) else a for a in args])
        ctx.issues.extend(ScanIssue(**i) for i in rec["issues"])
        if rec["summary"]:
            ctx.metadata.setdefault("sensitive_summary", {}).update(rec["summary"])
    if "sensitive_summary" in ctx.metadata:
        ctx.metadata["sensitive_summary"] = dict(sorted(ctx.metadata["sensitive_summary"].items()))
    return findings


def _remove_tree(root: Path) -> None:
    for p in sorted(root.rglob("*"), key=lambda q: len(q.parts), reverse=True):
        if p.is_dir() and not p.is_symlink():
            p.rmdir()
        else:
            p.unlink()
    root.rmdir()
