"""`shareguard data --runner …`: the same file analyzer as an Apache Beam pipeline.

The driver lists the objects (a workspace walk or an object-store listing, as the plain run does) and plans
the parts (`split.py`): a large plain-text, CSV or JSON Lines object is cut into line-aligned byte ranges, any
other object is one part. It deals the parts into shards balanced by bytes (one per worker on the direct
runner), and the pipeline is `Create(shard, part) | GroupByKey | ParDo(Detect)`: each worker compiles the
detectors once (`setup`), scans the parts of its shards with `SensitiveAnalyzer` (the same code the plain run
uses; `analyze_part` for a byte range) and writes one JSON line per part into one file per bundle: its
masked findings, the coverage calls it made (`core.dispatch.RecordingCoverage`, replayed by the driver as an
image layer's records are), its issues and its per-object summary (a file is renamed to its final name when
whole). The driver reads the files as they complete, in a thread of its own while Beam still tears its
workers down (on a remote runner after it returns), checks that every planned part has a record, merges the
parts of a split object (absolute line numbers, the
per-detector cap over the whole object) and builds the usual `ScanResult`, so every report format works
unchanged and the findings equal the plain run's.

Runners: `direct` (local, offline, several worker processes: `--workers`), `dataflow`, `flink`, `spark`
(their own options through `--beam-option KEY=VALUE`, checked before the pipeline is built:
`beam_runners.py`; the objects must then be readable by the workers, e.g. a `gs://` or `s3://` URL, and
`temp_location` must name storage both sides can reach).
"""

from __future__ import annotations

import glob
import importlib
import json
import logging
import os
import tempfile
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import asdict, astuple, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, BinaryIO

from shareguard.core.analyzer import Output
from shareguard.core.context import ScanContext, ScanIssue
from shareguard.core.dispatch import COVERAGE_CALLS, RecordingCoverage
from shareguard.core.engine import analyze_entry, claimed, declare_scopes, finish
from shareguard.core.entry import FileEntry
from shareguard.core.errors import ConfigError, InputError
from shareguard.core.files import read_regular
from shareguard.core.finding import Finding
from shareguard.core.options import OptionSet
from shareguard.core.registry import Registries
from shareguard.core.result import ScanResult
from shareguard.core.settings import Settings
from shareguard.sensitive.analyzer import SensitiveAnalyzer, analyze_part, split_kind
from shareguard.sensitive.beam_runners import RUNNERS, RunnerUnreachable, pipeline_flags, preflight
from shareguard.sensitive.catalog import Confidence
from shareguard.sensitive.engine import engine
from shareguard.sensitive.objstore import is_url, list_objects
from shareguard.sensitive.options import SensitiveOptions
from shareguard.sensitive.split import Block, Part, balance, open_regular, plan, read_block

Item = tuple[str, str, int]
"""(key shown in findings, where to read it: a local path or an object URL, size)."""


def _options_dict(opts: SensitiveOptions) -> dict[str, Any]:
    d = asdict(opts)
    d["min_confidence"] = opts.min_confidence.label
    return d


def _options_from(d: dict[str, Any]) -> SensitiveOptions:
    return SensitiveOptions(**{**d, "min_confidence": Confidence.parse(d["min_confidence"])})


def scan_part(part: Part, opts: SensitiveOptions, protocol: str | None, settings: Settings) -> dict[str, Any]:
    """One part through the analyzer (run by the workers): the record the driver replays. A whole object
    goes through `SensitiveAnalyzer` as in the plain run; a byte range of a large one through
    `analyze_part` (findings with line numbers relative to the part, every one: the driver merges)."""
    calls: list[tuple[str, tuple[object, ...]]] = []
    ctx = ScanContext(
        settings=settings, options=OptionSet().with_(opts), command="data", coverage=RecordingCoverage(calls)
    )
    findings: list[Finding] = []
    newlines = 0
    analyzer = SensitiveAnalyzer(options=opts)
    try:
        if part.count == 1:
            data = _read(part.where, protocol, opts.max_bytes_per_object)
        else:
            with _open(part.where, protocol) as fh:
                block = read_block(fh, part, opts.max_bytes_per_object)
    except (OSError, InputError) as exc:
        why = " ".join(str(exc).split())[:200]
        ctx.error(part.key, f"cannot read object ({type(exc).__name__}: {why})", analyzer.name)
    else:
        if part.count == 1:
            entry = FileEntry(rel_path=part.key, size=part.size, data=data)
            if claimed(analyzer, entry, ctx):  # as the plain run's dispatch asks
                analyze_entry(analyzer, entry, ctx, findings)
        else:
            newlines = block.newlines
            ranged = _RangeAnalyzer(kind=part.kind, block=block, index=part.index)
            analyze_entry(ranged, FileEntry(rel_path=part.key, size=part.size, data=b""), ctx, findings)
    return {
        "key": part.key,
        "part": part.index,
        "parts": part.count,
        "newlines": newlines,
        "findings": [f.model_dump(mode="json") for f in findings],
        "coverage": [[m, list(a)] for m, a in calls],
        "issues": [asdict(i) for i in ctx.issues],
        "summary": ctx.metadata.get("sensitive_summary", {}),
    }


@dataclass
class _RangeAnalyzer(SensitiveAnalyzer):
    """The sensitive-data analyzer on one byte range of an object (`analyze_part`)."""

    kind: str = "text"
    block: Block = field(default_factory=lambda: Block(b"", 0, 0, 0, 0))
    index: int = 0

    def analyze(self, entry: FileEntry, ctx: ScanContext) -> Iterable[Output]:
        return analyze_part(entry.rel_path, self.kind, self.block, self.index, ctx)


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


def _open(where: str, protocol: str | None) -> BinaryIO:
    if protocol is None:
        return open_regular(where)
    import fsspec

    fh: BinaryIO = fsspec.open(where, "rb").open()
    return fh


def _head(where: str, protocol: str | None) -> bytes:
    try:
        with _open(where, protocol) as fh:
            return fh.read(8192)
    except (OSError, ValueError):
        return b""  # not split; the worker reading it whole reports the error


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


def plan_parts(items: Sequence[Item], protocol: str | None, opts: SensitiveOptions, workers: int) -> list[Part]:
    """The parts of the listed objects: large line-oriented ones cut into byte ranges (`split.plan`)."""

    def kind_of(key: str, where: str) -> str | None:
        return split_kind(key, _head(where, protocol), opts)

    return plan(items, kind_of, workers=workers, max_bytes=opts.max_bytes_per_object)


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
    stats: dict[str, Any] | None = None,
) -> ScanResult:
    """Scan `target` (a path or object-store URL) with the Beam pipeline; the result equals the plain run's.

    `stats`, when given, receives the plan (parts, shards) and each bundle's worker process, start and end
    time (wall clock, seconds since the epoch), bytes and CPU seconds: the benchmark's steady state."""
    previous = logging.root.manager.disable
    logging.disable(logging.WARNING)  # Beam's import warns on the root logger about GCP clients it does not need
    try:
        beam: Any = importlib.import_module("apache_beam")
        pipeline_options: Any = importlib.import_module("apache_beam.options.pipeline_options")
    except ImportError:
        raise ConfigError("--runner needs Apache Beam: pip install 'shareguard[beam]'") from None
    finally:
        logging.disable(previous)
    opts = (options or OptionSet()).get(SensitiveOptions)
    settings = settings or Settings.from_env()
    ctx = ScanContext(settings=settings, options=(options or OptionSet()).with_(opts), command="data")
    ctx.metadata["scan_root"] = target
    ctx.metadata["beam_runner"] = RUNNERS.get(runner, runner)
    analyzer = SensitiveAnalyzer()
    declare_scopes([analyzer], ctx)
    started = datetime.now(UTC)
    flags = pipeline_flags(runner, workers, beam_options)
    preflight(runner, flags)
    items, protocol = _items(target, ctx)
    parts = plan_parts(items, protocol, opts, max(1, workers))
    # The direct runner deals the keys of a grouped stage round-robin over its workers: one shard per worker,
    # balanced by bytes. Elsewhere one shard per part, which the service spreads over its workers.
    shards = balance(parts, max(1, workers) if runner == "direct" else len(parts))
    remote_tmp = _temp_location(flags)
    local_tmp: str | None = None
    if remote_tmp is None:
        settings.cache_dir.mkdir(parents=True, exist_ok=True)
        local_tmp = tempfile.mkdtemp(prefix="beam-", dir=settings.cache_dir)
        prefix = os.path.join(local_tmp, "parts")
    else:
        prefix = f"{remote_tmp}/shareguard-{uuid.uuid4().hex}/parts"
    detect = _detect_fn(beam)(_options_dict(opts), protocol, prefix)
    expected = {(p.key, p.index) for p in parts}

    def merge(records: list[dict[str, Any]]) -> ScanResult:
        findings = _replay(records, parts, opts, ctx)
        return finish("data", target, started, sorted(findings, key=_order), registries, ctx)

    # Local records are read, merged and made into the result in a thread as soon as every part has one, while
    # Beam (in this thread, where an interrupt reaches it) still tears its workers down.
    collector = _Collector(prefix, expected, merge)
    try:
        if local_tmp is not None:
            collector.start()
        if shards:
            _run_pipeline(beam, pipeline_options.PipelineOptions(flags), runner, shards, detect)
        pipeline_done = time.time()
        if local_tmp is None:
            collector.run()
        result = collector.wait()
        if stats is not None:
            stats["parts"] = len(parts)
            stats["split_objects"] = len({p.key for p in parts if p.count > 1})
            stats["shards"] = len({s for s, _ in shards})
            stats["bundles"] = sorted({tuple(r["bundle"]) for r in collector.records if "bundle" in r})
            stats["collected"] = collector.done
            stats["pipeline_done"] = pipeline_done
    finally:
        collector.cancel()
        if local_tmp is not None:
            _remove_tree(Path(local_tmp))
    return result


class _Collector(threading.Thread):
    """Reads the workers' records (`_collect`) and merges them into the result: in a thread of its own
    (`start`, then `wait` once the pipeline has returned) or in the caller's (`run`, then `wait`)."""

    def __init__(
        self, prefix: str, expected: set[tuple[str, int]], merge: Callable[[list[dict[str, Any]]], ScanResult]
    ) -> None:
        super().__init__(name="shareguard-beam-records", daemon=True)
        self.prefix, self.expected, self.merge = prefix, expected, merge
        self.ended = threading.Event()
        self.cancelled = False
        self.records: list[dict[str, Any]] = []
        self.result: ScanResult | None = None
        self.error: BaseException | None = None
        self.done = 0.0

    def run(self) -> None:
        try:
            self.records = _collect(self.prefix, self.expected, self.ended)
            self.done = time.time()
            if not self.cancelled:
                self.result = self.merge(self.records)
        except BaseException as exc:  # handed to the caller by wait()
            self.error = exc

    def wait(self) -> ScanResult:
        """The result, once the pipeline has returned (every file it wrote is then complete)."""
        self.ended.set()
        if self.is_alive():
            self.join()
        if self.error is not None:
            raise self.error
        if self.result is None:
            raise RuntimeError("the records were not merged")
        return self.result

    def cancel(self) -> None:
        """The pipeline failed or was interrupted (or the result is taken): stop reading, merge nothing more."""
        self.cancelled = True
        self.ended.set()
        if self.is_alive():
            self.join()


def _collect(prefix: str, expected: set[tuple[str, int]], ended: threading.Event) -> list[dict[str, Any]]:
    """The workers' records, read as their bundles' files become complete (a worker writes a file under a
    temporary name and renames it when whole): returns once every expected part has one, or once `ended`
    is set (the pipeline has returned) and every file is read."""
    import fsspec

    fs, root = fsspec.core.url_to_fs(prefix)
    records: list[dict[str, Any]] = []
    seen: set[str] = set()
    missing = set(expected)
    while True:
        last = ended.is_set()
        for path in sorted(fs.glob(glob.escape(root) + "*.jsonl")):
            if path in seen:
                continue
            seen.add(path)
            with fs.open(path, "rt", encoding="utf-8") as fh:
                for line in fh:
                    if line.strip():
                        rec = json.loads(line)
                        records.append(rec)
                        missing.discard((rec["key"], rec["part"]))
        if not missing or last:
            return records
        ended.wait(0.02)


def _run_pipeline(beam: Any, options: Any, runner: str, shards: Sequence[tuple[int, Part]], detect: Any) -> None:
    """`Create(shard, part) | GroupByKey | ParDo(Detect)`, run to its end. A remote runner's failure (its
    service, its job) is one line and exit 3, nothing scanned; on the direct runner an error is a bug."""
    try:
        with _quiet_harness(runner), beam.Pipeline(options=options) as p:
            _ = (
                p
                # reshuffle=False: the grouping that follows spreads the parts; a second shuffle costs a stage.
                | "Parts" >> beam.Create([(s, astuple(part)) for s, part in shards], reshuffle=False)
                | "Shard" >> beam.GroupByKey()
                | "Detect" >> beam.ParDo(detect)
            )
    except Exception as exc:
        if runner == "direct":
            raise
        first = next((line.strip() for line in str(exc).splitlines() if line.strip()), "")
        raise RunnerUnreachable(
            f"--runner {runner}: the pipeline failed ({type(exc).__name__}: {first[:300]})"
        ) from exc


@contextmanager
def _quiet_harness(runner: str) -> Iterator[None]:
    """The direct runner relays its local worker processes' start-up chatter as warnings: errors only."""
    log = logging.getLogger("apache_beam")
    level = log.level
    if runner == "direct":
        log.setLevel(logging.ERROR)
    try:
        yield
    finally:
        log.setLevel(level)


def _detect_fn(beam: Any) -> Any:
    """The worker's DoFn class (defined here: Beam is an optional extra)."""

    class Detect(beam.DoFn):  # type: ignore[misc]  # a base class of type Any
        """Scans the parts of its shards; writes one JSON line per part into one file per bundle."""

        def __init__(self, opts_dict: dict[str, Any], protocol: str | None, prefix: str) -> None:
            self.opts_dict = opts_dict
            self.protocol = protocol
            self.prefix = prefix

        def setup(self) -> None:
            # Once per worker: the compiled detector set and the options, not per element.
            began, cpu = time.time(), time.process_time()
            self.opts = _options_from(self.opts_dict)
            self.settings = Settings.from_env()
            engine()
            self.ready = [began, time.process_time() - cpu]

        def start_bundle(self) -> None:
            self.records: list[dict[str, Any]] = []
            # worker process, start, end, bytes, CPU s; when and how long (CPU s) its setup() ran
            self.bundle: list[float] = [os.getpid(), time.time(), 0.0, 0, time.process_time(), *self.ready]

        def process(self, element: tuple[int, Iterable[tuple[Any, ...]]]) -> Iterator[Any]:
            for raw in element[1]:
                part = Part(*raw)
                self.records.append(scan_part(part, self.opts, self.protocol, self.settings))
                self.bundle[3] += part.nominal
            return iter(())

        def finish_bundle(self) -> None:
            if not self.records:
                return
            self.bundle[2] = time.time()
            self.bundle[4] = time.process_time() - self.bundle[4]
            filesystems: Any = importlib.import_module("apache_beam.io.filesystems")
            name = f"{self.prefix}-{uuid.uuid4().hex}"
            with filesystems.FileSystems.create(name + ".tmp") as out:
                for rec in self.records:
                    # Each record also names its bundle (worker process, start, end, bytes, CPU s) for the benchmark.
                    out.write(json.dumps({**rec, "bundle": self.bundle}).encode("utf-8") + b"\n")
            # Complete files only under the name the driver reads (it may read while the pipeline runs).
            filesystems.FileSystems.rename([name + ".tmp"], [name + ".jsonl"])
            self.records = []

    return Detect


def _order(f: Finding) -> tuple[str, int, int, str]:
    loc = f.location
    return (f.resource.path, loc.line or 0, loc.column or 0, f.rule_id)


def _replay(
    records: Iterable[dict[str, Any]], parts: Sequence[Part], opts: SensitiveOptions, ctx: ScanContext
) -> list[Finding]:
    """The plain run's result from the workers' records: each planned part once (a retried bundle's second
    record is dropped; a part without a record is an error for its object), the parts of a split object
    merged in order (line numbers made absolute, the per-detector cap applied to the whole object)."""
    got: dict[tuple[str, int], dict[str, Any]] = {}
    for rec in records:
        got.setdefault((rec["key"], rec["part"]), rec)
    objects: dict[str, list[Part]] = {}
    for part in parts:
        objects.setdefault(part.key, []).append(part)
    findings: list[Finding] = []
    summary: dict[str, dict[str, int]] = {}
    for key in sorted(objects):
        pieces = sorted(objects[key], key=lambda p: p.index)
        recs = [got.get((key, p.index)) for p in pieces]
        for p, maybe in zip(pieces, recs, strict=True):
            if maybe is None:
                where = "" if p.count == 1 else f" (part {p.index + 1} of {p.count}, bytes {p.start}-{p.end})"
                ctx.error(key, f"not scanned: the pipeline wrote no record for it{where}", "sensitive.files")
        present = [r for r in recs if r is not None]
        if len(pieces) == 1:
            for rec in present:
                findings.extend(Finding.model_validate(f) for f in rec["findings"])
                _replay_coverage(rec["coverage"], ctx, keep_evaluated_input=True)
                ctx.issues.extend(ScanIssue(**i) for i in rec["issues"])
                summary.update(rec["summary"])
            continue
        findings.extend(_merge(key, recs, opts))
        for rec in present:
            _replay_coverage(rec["coverage"], ctx, keep_evaluated_input=False)
            ctx.issues.extend(ScanIssue(**i) for i in rec["issues"])
        if len(present) == len(recs) and all(_evaluated_input(r["coverage"]) for r in present):
            ctx.coverage.input_evaluated("sensitive.files", key)
        counts: Counter[str] = Counter()
        for rec in present:
            counts.update(rec["summary"].get(key, {}))
        if counts:
            summary[key] = dict(sorted(counts.items()))
    if summary:
        ctx.metadata["sensitive_summary"] = dict(sorted(summary.items()))
    return findings


def _merge(key: str, recs: Sequence[dict[str, Any] | None], opts: SensitiveOptions) -> Iterator[Finding]:
    """The findings of a split object's parts in order, lines absolute (unknown after a missing part), at most
    `max_findings_per_detector` per detector, as the plain run shows them."""
    cap = opts.max_findings_per_detector
    shown: Counter[str] = Counter()
    first = 1
    for rec in recs:
        if rec is None:
            first = 0  # the lines of a missing part were not counted: later line numbers are unknown
            continue
        for f in rec["findings"]:
            det = str(f["properties"].get("detector", ""))
            if cap and shown[det] >= cap:
                continue
            shown[det] += 1
            loc = dict(f["location"])
            if first:
                loc["line"] = (loc.get("line") or 1) + first - 1
                if isinstance(loc.get("record"), str) and loc["record"].isdigit():
                    loc["record"] = str(int(loc["record"]) + first - 1)
            else:
                loc["line"] = loc["record"] = None
            yield Finding.model_validate({**f, "location": loc, "fingerprint": ""})
        if first:
            first += int(rec["newlines"])


def _replay_coverage(calls: Iterable[list[Any]], ctx: ScanContext, *, keep_evaluated_input: bool) -> None:
    for method, args in calls:
        if method not in COVERAGE_CALLS or (method == "input_evaluated" and not keep_evaluated_input):
            continue
        getattr(ctx.coverage, method)(*[tuple(a) if isinstance(a, list) else a for a in args])


def _evaluated_input(calls: Iterable[list[Any]]) -> bool:
    return any(method == "input_evaluated" for method, _args in calls)


def _remove_tree(root: Path) -> None:
    for p in sorted(root.rglob("*"), key=lambda q: len(q.parts), reverse=True):
        if p.is_dir() and not p.is_symlink():
            p.rmdir()
        else:
            p.unlink()
    root.rmdir()
