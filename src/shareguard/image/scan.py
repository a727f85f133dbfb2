"""Image and root-filesystem scans: stream layers once, ask the analyzers, merge, match.

Every analyzer that reads a file is a file analyzer (`core/analyzer.py`): the inventory (dpkg, rpm, apk,
python, conda, npm, os-release, apt sources, ML stack) as much as the model-file, ML-code and
configuration analyzers `audit` runs on a workspace. Per layer: look up the layer cache; on a miss
stream the layer and hand the files some analyzer wants to those (`core/dispatch.py`), keep
{path: file records}, the path list, whiteouts and opaque dirs, and cache that. Then apply the layers
(upper wins, whiteouts delete a file's facts and findings alike), run the inventory finalizers over the
facts of the files still present, replay those files' records (findings naming the path in the image
and the layer's diff id), add the image identity, and run the post analyzers (the vulnerability
matcher is one).
"""

from __future__ import annotations

import dataclasses
import functools
import os
import posixpath
import tempfile
from collections import deque
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import nullcontext
from datetime import UTC, datetime
from pathlib import Path

from shareguard.core.analyzer import FileAnalyzer, PostAnalyzer, runs_on
from shareguard.core.context import ScanContext, ScanIssue
from shareguard.core.dispatch import SPOOL_BYTES, FileRecord, PathDispatch, replay, spool_dir
from shareguard.core.engine import declare_scopes, finish, run_post_analyzers
from shareguard.core.errors import ShareguardError
from shareguard.core.facts import Fact, ImageIdentity, Package
from shareguard.core.finding import Finding
from shareguard.core.registry import Registries
from shareguard.core.result import ScanResult
from shareguard.core.settings import CACHE_SKIPPED
from shareguard.image.analyzer import InventoryFinalizer
from shareguard.image.cache import (
    CodecError,
    ImageCache,
    ImageInventory,
    LayerCache,
    code_key,
    file_analyzers_key,
)
from shareguard.image.facts import InventoryNotice
from shareguard.sources.image.applier import Applier, LayerResult
from shareguard.sources.image.layer import InflateBudget, LayerError, walk_layer
from shareguard.sources.image.libz import Ring, quick_handoff
from shareguard.sources.image.model import ImageSource, LayerRef

MAX_KEPT_BYTES = 64 * 1024 * 1024
"""Wanted files kept for the rest of their layer, so links to them can be analyzed too."""
MAX_KEPT_FILE_ONLY = 1024 * 1024
MAX_IN_FLIGHT_BYTES = 96 * 1024 * 1024
"""Content handed to the file-analyzer thread and not yet analyzed; past this the walk waits."""
MAX_LINK_HOPS = 40
MAX_DEFERRED_BYTES = 64 * 1024 * 1024
"""Last copies of paths a layer repeats, held in memory until the layer ends; past this, spooled to files."""
_ANALYZER_ERRORS = (ShareguardError, OSError, RecursionError, MemoryError, UnicodeError, ValueError, LookupError)


Item = FileRecord
"""What a layer keeps per path: what the analyzers made of the file."""


def file_analyzers(
    registries: Registries, source: str, analyzer_filter: Callable[[FileAnalyzer], bool] | None = None
) -> list[FileAnalyzer]:
    """The analyzers that run on `source` (`image` or `rootfs`): those selected by the filter whose
    optional `sources` attribute (default: every source) names it. The inventory analyzers are among them."""
    return [
        a
        for a in registries.of(FileAnalyzer)  # type: ignore[type-abstract]
        if runs_on(a, source) and (analyzer_filter is None or analyzer_filter(a))
    ]


def layer_key(analyzers: list[FileAnalyzer], ctx: ScanContext) -> str:
    """What a cached layer result depends on besides the layer: every analyzer's name and version, their
    code and rule data and the scan options (see `cache.file_analyzers_key`)."""
    return file_analyzers_key(analyzers, ctx.options)


def inventory_finalizers(registries: Registries) -> list[InventoryFinalizer]:
    """In the order they run."""
    return sorted(registries.of(InventoryFinalizer), key=lambda f: f.order)  # type: ignore[type-abstract]


_Job = tuple[int, Future[list[tuple[str, FileRecord]]]]


class LayerCollector:
    """Turns one layer's (or one root filesystem's) entries into a LayerResult.

    The caller reports each entry in stream order. Links to files of the same layer are analyzed under
    the link's path by the analyzers that say `links = True` (the inventory: Debian's
    `etc/os-release -> ../usr/lib/os-release`); the others do not follow links, as in a workspace.

    A wanted path the layer writes again (tar: a later entry replaces an earlier one) is analyzed as the
    layer's final state only: from its second copy on, only the latest body is kept (in memory up to
    `MAX_DEFERRED_BYTES` in all, else spooled), and it is analyzed when the layer ends (`settle`), in place
    of what the first copy gave. Thirty copies of a 70 MB dpkg status cost two parses, not thirty.
    """

    def __init__(
        self,
        diff_id: str | None,
        files: PathDispatch | None = None,
        pool: ThreadPoolExecutor | None = None,
        spool: Path | None = None,
        *,
        layered: bool = False,
    ) -> None:
        self.result: LayerResult[Item] = LayerResult(diff_id)
        self._layered = layered
        """An image layer: a FIFO or device replaces (with its facts) a lower layer's file at its path."""
        self._spool = spool
        """Where the last copies of repeated paths go past `MAX_DEFERRED_BYTES` (None: kept in memory)."""
        self._seen: set[str] = set()
        """Wanted paths this layer wrote already."""
        self._last_copy: dict[str, tuple[int, bytes | Path | None]] = {}
        """Repeated paths: (size, body) of their latest copy, analyzed when the layer ends."""
        self._last_bytes = 0
        self._files = files
        self._pool = pool
        """Analyzers run here when given: their CPU overlaps the walk's waits for the inflater."""
        self._running: deque[_Job] = deque()
        self._running_bytes = 0
        self._kept: dict[str, bytes] = {}
        self._kept_bytes = 0
        self._pending: dict[str, list[str]] = {}
        self._links: dict[str, str] = {}

    def issue(self, path: str, message: str, is_error: bool) -> None:
        self.result.issues.append((path, message, is_error))

    def wants(self, path: str, size: int) -> bool:
        files = self._files
        return files is not None and (path in self._pending or bool(files.wanting(path, size)))

    def _submit(
        self, jobs: list[tuple[str, list[FileAnalyzer]]], content: bytes | Path, size: int, weight: int
    ) -> None:
        """Run the analyzers on one body under one or more paths, here or on the pool (a spooled body
        weighs nothing in memory; the job deletes its file)."""
        files = self._files
        assert files is not None
        layer = self.result.diff_id
        if self._pool is None:
            self._keep_all(files.run_many(jobs, content, layer, size=size))
            return
        while self._running and self._running_bytes + weight > MAX_IN_FLIGHT_BYTES:
            self._settle_one()
        try:
            future = self._pool.submit(files.run_many, jobs, content, layer, size=size)
        except BaseException:
            if isinstance(content, Path):
                content.unlink(missing_ok=True)
            raise
        self._running.append((weight, future))
        self._running_bytes += weight

    def _keep(self, path: str, record: FileRecord | None) -> None:
        if record is not None:
            self.result.facts.setdefault(path, []).append(record)

    def _keep_all(self, records: list[tuple[str, FileRecord]]) -> None:
        for path, record in records:
            self._keep(path, record)

    def _settle_one(self) -> None:
        weight, future = self._running.popleft()
        self._running_bytes -= weight
        self._keep_all(future.result())

    def _wait(self) -> None:
        while self._running:
            self._settle_one()

    def settle(self) -> None:
        """The layer has ended: analyze the last copy of each repeated path in place of its first copy's
        records, wait for the analyzers still running on this layer's files and keep their records."""
        self._wait()
        if not self._last_copy:
            return
        copies, self._last_copy, self._last_bytes = self._last_copy, {}, 0
        for path in copies:
            self.result.facts.pop(path, None)  # what an earlier copy gave: no longer in the layer
        items = list(copies.items())
        try:
            while items:
                path, (size, content) = items.pop(0)
                self._analyze(path, size, content)
        except BaseException:
            for _path, (_size, content) in items:
                if isinstance(content, Path):
                    content.unlink(missing_ok=True)
            raise
        self._wait()

    def abandon(self) -> None:
        """The layer could not be read: wait for (and drop) what is still running."""
        while self._running:
            _, future = self._running.popleft()
            future.cancel() or future.exception()
        self._running_bytes = 0
        for path in list(self._last_copy):
            self._drop_copy(path)

    def _drop_copy(self, path: str) -> None:
        old = self._last_copy.pop(path, None)
        if old is None:
            return
        if isinstance(old[1], Path):
            old[1].unlink(missing_ok=True)
        elif old[1] is not None:
            self._last_bytes -= len(old[1])

    def _defer(self, path: str, size: int, content: bytes | Path | None) -> None:
        """A wanted path written again: keep only this copy's body (it replaces the earlier ones) for `settle`."""
        self._drop_copy(path)
        if isinstance(content, bytes):
            if self._spool is not None and self._last_bytes + len(content) > MAX_DEFERRED_BYTES:
                content = _spool_bytes(content, self._spool)
            else:
                self._last_bytes += len(content)
        self._last_copy[path] = (size, content)

    def unwanted(self, path: str, size: int) -> None:
        """A regular file no analyzer wants (its body was not read): only its path is kept, unless it
        replaces a wanted copy earlier in this layer (whose records go) or is too large for an analyzer
        that wants it (an error naming it)."""
        files = self._files
        if path in self._seen or (files is not None and files.over_budget(path, size) is not None):
            self.file(path, size, None)
        else:
            self.result.paths.append(path)

    def directory(self, path: str) -> None:
        """Directories carry nothing an analyzer reads."""

    def whiteout(self, path: str) -> None:
        self.result.whiteouts.append(path)

    def opaque(self, path: str) -> None:
        self.result.opaque.append(path)

    def file(self, path: str, size: int, content: bytes | Path | None) -> None:
        """A regular file; `content` is its body, a spooled copy (a `Path` this collector deletes) or None
        when it was not read."""
        self.result.paths.append(path)
        files = self._files
        if files is None:
            if isinstance(content, Path):
                content.unlink(missing_ok=True)
            return
        if path in self._seen:
            self._defer(path, size, content)
            return
        over = files.over_budget(path, size)
        if over is not None or path in self._pending or files.wanting(path, size):
            self._seen.add(path)
        self._analyze(path, size, content, over)

    def _analyze(self, path: str, size: int, content: bytes | Path | None, over: FileRecord | None = None) -> None:
        files = self._files
        assert files is not None
        if over is None:
            over = files.over_budget(path, size)
        # Too large for some analyzer that wants it (its `max_bytes`): an error naming it, never a silent skip.
        self._keep(path, over)
        if content is None:
            self._keep(path, files.not_read(path, size, "not read (over the member budget or unreadable)"))
            return
        analyzers = files.wanting(path, size)
        jobs: list[tuple[str, list[FileAnalyzer]]] = [(path, analyzers)] if analyzers else []
        for link in self._pending.pop(path, ()):
            linking = files.linking(link, size)
            if linking:
                jobs.append((link, linking))
        if isinstance(content, Path):
            # Too large to keep for links that come later in the layer: analyzed now, then deleted.
            if jobs:
                self._submit(jobs, content, size, 0)
            else:
                content.unlink(missing_ok=True)
            return
        if jobs:
            self._submit(jobs, content, size, len(content))
        # Kept for links an analyzer that follows links may want later; a file read only for the others
        # (a model checkpoint) is kept only when small.
        follows = any(getattr(a, "links", False) for a in analyzers)
        if (follows or len(content) <= MAX_KEPT_FILE_ONLY) and self._kept_bytes + len(content) <= MAX_KEPT_BYTES:
            self._kept[path] = content
            self._kept_bytes += len(content)

    def special(self, path: str, what: str) -> None:
        """A FIFO, device or socket: never read. At a path some analyzer wants, an error naming each (its
        duties, or the matcher's, incomplete): a FIFO where the dpkg status should be is no silent pass.
        In an image layer (`layered`) it replaces (with its facts) a lower layer's file at that path."""
        if self._layered:
            self.result.paths.append(path)
        files = self._files
        if files is None:
            return
        analyzers = files.wanting(path, 0)
        if not analyzers:
            return
        message = f"not analysed: a {what}, not a regular file"
        self._keep(
            path,
            FileRecord(
                coverage=[("could_not_analyse", (a.name, path, message)) for a in analyzers],
                issues=[(path, message, a.name, "error") for a in analyzers],
            ),
        )

    def symlink(self, path: str, target: str) -> None:
        self.result.paths.append(path)
        files = self._files
        if files is None:
            return
        resolved = posixpath.normpath(
            target.lstrip("/") if target.startswith("/") else posixpath.join(posixpath.dirname(path), target)
        )
        if resolved.startswith("..") or resolved == ".":
            return  # climbs out of the root (reported by the source) or names the root: never followed
        self._links[path] = resolved
        seen = {path}
        hops = 0
        while resolved in self._links:
            if resolved in seen or hops >= MAX_LINK_HOPS:
                self.issue(path, "symlink loop; never followed", False)
                return
            seen.add(resolved)
            resolved = self._links[resolved]
            hops += 1
        if not files.linking(path, 0):
            return
        kept = self._kept.get(resolved)
        if kept is not None:
            linking = files.linking(path, len(kept))
            if linking:
                self._submit([(path, linking)], kept, len(kept), len(kept))
        else:
            self._pending.setdefault(resolved, []).append(path)

    def hardlink(self, path: str, target: str) -> None:
        self.result.paths.append(path)
        kept = self._kept.get(target)
        if kept is None or self._files is None:
            return
        linking = self._files.linking(path, len(kept))
        if linking:
            self._submit([(path, linking)], kept, len(kept), len(kept))


def _spool_bytes(data: bytes, directory: Path) -> Path:
    """`data` in a new temporary file in `directory` (the consumer deletes it)."""
    directory.mkdir(parents=True, exist_ok=True)
    fd, name = tempfile.mkstemp(prefix="member.", suffix=".tmp", dir=directory)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
    except BaseException:
        Path(name).unlink(missing_ok=True)
        raise
    return Path(name)


def read_layer(
    layer: LayerRef,
    ctx: ScanContext,
    *,
    parallel: bool = True,
    ring: Ring | None = None,
    files: PathDispatch | None = None,
    pool: ThreadPoolExecutor | None = None,
    image_budget: InflateBudget | None = None,
    index: int = 0,
) -> LayerResult[Item]:
    """Stream one layer once; raises LayerError when it cannot be read as a whole (also past the inflated-bytes
    budget of the layer, or of its image: `image_budget`, shared by its layers, `index` this one's place)."""
    collector = LayerCollector(layer.diff_id, files, pool, spool_dir(ctx.settings.cache_dir), layered=True)
    try:
        _stream_into(
            layer,
            collector,
            ctx,
            parallel=parallel,
            ring=ring,
            image_budget=image_budget,
            index=index,
        )
    except BaseException:
        collector.abandon()
        raise
    collector.settle()
    return collector.result


def _stream_into(
    layer: LayerRef,
    collector: LayerCollector,
    ctx: ScanContext,
    *,
    parallel: bool,
    ring: Ring | None,
    image_budget: InflateBudget | None = None,
    index: int = 0,
) -> None:
    budgets = ctx.settings.budgets
    walk_layer(
        layer,
        collector,
        max_member_bytes=budgets.max_member_bytes,
        max_members=budgets.max_files,
        max_decompressed_bytes=budgets.max_decompressed_bytes,
        parallel=parallel,
        ring=ring,
        spool_dir=spool_dir(ctx.settings.cache_dir),
        spool_over=SPOOL_BYTES,
        max_layer_bytes=budgets.max_layer_inflated_bytes,
        image_budget=image_budget,
        index=index,
    )


def _replay(ctx: ScanContext, where: str, issues: list[tuple[str, str, bool]]) -> None:
    for path, message, is_error in issues:
        (ctx.error if is_error else ctx.warn)(f"{where}: {path}", message)


def _damaged_entry(ctx: ScanContext, layer: LayerRef, incomplete: list[str] | None, message: str) -> None:
    """A cache entry that does not decode: a warning (someone or something wrote it), and the layer is read
    instead. The warning keeps the image inventory out of the cache (it would replay it on every hit)."""
    ctx.warn(layer.name, message)
    if incomplete is not None:
        incomplete.append(layer.name)


def _write_entry(
    cache: LayerCache, writer: ThreadPoolExecutor, layer: LayerRef, result: LayerResult[Item]
) -> Future[None]:
    """Store a layer's result in the cache: encoded here (Python work, which would contend for the GIL with
    the walk and the inflater from another thread), compressed and written on `writer` (GIL-free work). An
    encoding error is the returned future's, reported with the write errors."""
    try:
        raw = cache.encode(result)
    except CodecError as exc:
        failed: Future[None] = Future()
        failed.set_exception(exc)
        return failed
    return writer.submit(cache.write, layer.digest, layer.diff_id, raw)


WALKERS = 2
"""Layers read at once (when `parallel`): each walk's Python (tar headers, wanted bodies, analyzers) and
each layer's inflater (libz, GIL-free) overlap on the cores, as Trivy analyzes an image's layers in
parallel; results are applied in layer order. One walk at a time left a core idle whenever the parser
or the inflater waited for the other, and the whole image inflated serially."""


def apply_layers(
    source: ImageSource,
    registries: Registries,
    ctx: ScanContext,
    *,
    use_cache: bool = True,
    on_layer: Callable[[LayerRef, bool], None] | None = None,
    parallel: bool = True,
    incomplete: list[str] | None = None,
    files: list[FileAnalyzer] | None = None,
    key: str | None = None,
) -> Applier[Item]:
    """Read (or fetch from the cache) every layer and apply them in order; `incomplete` collects the names
    of layers that could not be read or whose result could not be cached. `files`: the analyzers (default:
    every one registered for images); `key`: their `layer_key` when the caller has it already.

    With `parallel`, up to `WALKERS` layers are read at once (each in a thread of its own, with its own
    inflater), and one more waits its turn, so that a walker never idles while an earlier layer is still
    read; what a layer gives (result, error, the image budget's verdict) is taken in layer order, so the
    outcome is the serial one whichever walk ends first."""
    if files is None:
        files = file_analyzers(registries, "image")
    dispatch = PathDispatch(files, ctx) if files else None
    cache = LayerCache(ctx.settings.cache_dir, key if key is not None else layer_key(files, ctx))
    applier: Applier[Item] = Applier()
    hits = 0
    # Cache writes (zlib and the file write of each layer's entry) run beside the layers still read.
    writes: list[tuple[LayerRef, Future[None]]] = []
    ring = Ring()  # decompression buffers shared by the inflaters of this image's layers
    budget = InflateBudget(ctx.settings.budgets.max_image_inflated_bytes)  # cached layers cost no inflation
    pending: deque[tuple[int, LayerRef, Future[LayerResult[Item] | LayerError], bool]] = deque()
    """(index, layer, its outcome: a walk running or ended, or a cache hit; whether it is a hit), in layer order."""

    def walk(index: int, layer: LayerRef) -> LayerResult[Item] | LayerError:
        try:
            return read_layer(
                layer,
                ctx,
                parallel=parallel,
                ring=ring,
                files=dispatch.fork() if dispatch is not None else None,
                pool=pool if files else None,
                image_budget=budget,
                index=index,
            )
        except LayerError as exc:
            return exc

    def take(index: int, layer: LayerRef, item: Future[LayerResult[Item] | LayerError], hit: bool) -> None:
        nonlocal hits
        outcome = item.result()
        if not hit:
            over = budget.settle(index)
            if over is not None:
                outcome = LayerError(over)  # a serial read would have stopped there
        if isinstance(outcome, LayerError):
            ctx.error(layer.name, f"layer not scanned: {outcome}")
            if incomplete is not None:
                incomplete.append(layer.name)
            if on_layer is not None:
                on_layer(layer, False)
            return
        if hit:
            hits += 1
        elif use_cache:
            writes.append((layer, _write_entry(cache, writer, layer, outcome)))
        _replay(ctx, layer.name, outcome.issues)
        applier.add(outcome)
        if on_layer is not None:
            on_layer(layer, hit)

    with (
        ThreadPoolExecutor(max_workers=1, thread_name_prefix="layer-cache") as writer,
        ThreadPoolExecutor(max_workers=1, thread_name_prefix="file-analyzers") as pool,
        ThreadPoolExecutor(max_workers=WALKERS, thread_name_prefix="layer-walk") as walkers,
        quick_handoff() if parallel else nullcontext(),  # the inflater threads re-take the GIL often
    ):
        try:
            for index, layer in enumerate(source.layers):
                cached = (
                    cache.get(layer.digest, layer.diff_id, functools.partial(_damaged_entry, ctx, layer, incomplete))
                    if use_cache
                    else None
                )
                if cached is not None:
                    pending.append((index, layer, _done(cached), True))
                elif parallel and layer.open_ahead:
                    pending.append((index, layer, walkers.submit(walk, index, layer), False))
                else:  # read alone, in this thread: a registry stream, or no threads wanted
                    while pending:
                        take(*pending.popleft())
                    pending.append((index, layer, _done(walk(index, layer)), False))
                while pending and (len(pending) > WALKERS or pending[0][2].done()):
                    take(*pending.popleft())
            while pending:
                take(*pending.popleft())
        except BaseException:
            budget.stop()  # the walks still running end at their next budget check (every 8 MiB)
            walkers.shutdown(wait=True, cancel_futures=True)
            raise
    for layer, write in writes:
        failure = write.exception()
        if isinstance(failure, OSError | CodecError):
            ctx.warn(layer.name, f"layer result not cached: {failure}")
            if incomplete is not None:
                incomplete.append(layer.name)
        elif failure is not None:
            raise failure
    ctx.metadata["layers"] = len(source.layers)
    ctx.metadata["layers_from_cache"] = hits
    return applier


def _done(outcome: LayerResult[Item] | LayerError) -> Future[LayerResult[Item] | LayerError]:
    """An outcome known already (a cache hit, a layer read in this thread), queued as walks are."""
    done: Future[LayerResult[Item] | LayerError] = Future()
    done.set_result(outcome)
    return done


def finalize(
    applier: Applier[Item], registries: Registries, ctx: ScanContext
) -> tuple[list[Fact], list[tuple[str, FileRecord]]]:
    """The finalized facts of the files still present, and their records without the facts (in path
    order): every analyzer's facts go through the finalizers, which see the whole filesystem."""
    facts: list[Fact] = []
    records: list[tuple[str, FileRecord]] = []
    for path in sorted(applier.facts):
        for record in applier.facts[path]:
            facts.extend(record.facts)
            if record.findings or record.coverage or record.issues:
                records.append((path, dataclasses.replace(record, facts=[])))
    for fin in inventory_finalizers(registries):
        try:
            facts = fin.finalize(facts, applier.files)
        except _ANALYZER_ERRORS as exc:
            ctx.error("-", f"{type(exc).__name__}: {exc}", fin.name)
    return facts, records


def inventory(
    source: ImageSource,
    registries: Registries,
    ctx: ScanContext,
    *,
    use_cache: bool = True,
    on_layer: Callable[[LayerRef, bool], None] | None = None,
    parallel: bool = True,
    files: list[FileAnalyzer] | None = None,
) -> tuple[list[Fact], list[tuple[str, FileRecord]]]:
    """The image's finalized facts and its files' records: from the image cache when the same layers
    were read by the same analyzers and finalizers before, else layer by layer (each from the layer
    cache or read)."""
    layers = [(layer.digest, layer.diff_id) for layer in source.layers]
    images: ImageCache | None = None
    if files is None:
        files = file_analyzers(registries, "image")
    key = layer_key(files, ctx)  # a stat of every file of the analyzers' packages: once per scan
    if use_cache:
        images = ImageCache(ctx.settings.cache_dir, key, code_key(list(inventory_finalizers(registries))))
        hit = images.get(layers, lambda message: ctx.warn(source.reference, message))
        if hit is not None:
            ctx.issues.extend(ScanIssue(p, m, a, k) for p, m, a, k in hit.issues)
            if on_layer is not None:
                for layer in source.layers:
                    on_layer(layer, True)
            ctx.metadata["layers"] = ctx.metadata["layers_from_cache"] = len(source.layers)
            return hit.facts, hit.records
    mark = len(ctx.issues)
    incomplete: list[str] = []
    applier = apply_layers(
        source,
        registries,
        ctx,
        use_cache=use_cache,
        on_layer=on_layer,
        parallel=parallel,
        incomplete=incomplete,
        files=files,
        key=key,
    )
    before_finalize = len(ctx.issues)
    facts, records = finalize(applier, registries, ctx)
    # Only a complete, clean result is worth keeping: a layer that could not be read may read next
    # time, and a cache-write warning must not be replayed from the cache forever.
    if images is not None and not incomplete and len(ctx.issues) == before_finalize:
        issues = [(i.path, i.message, i.analyzer, i.kind) for i in ctx.issues[mark:]]
        try:
            images.put(layers, ImageInventory(facts, issues, records))
        except (OSError, CodecError) as exc:
            ctx.warn(source.reference, f"image inventory not cached: {exc}")
    return facts, records


def _add_inventory(ctx: ScanContext, facts: list[Fact]) -> None:
    ctx.facts.extend(facts)
    ctx.metadata["packages"] = sum(1 for f in facts if isinstance(f, Package))
    # What the inventory could not do (e.g. an unsupported rpmdb format) must not pass silently.
    for notice in facts:
        if isinstance(notice, InventoryNotice):
            where = f"{notice.layer}: {notice.path}" if notice.layer else notice.path
            (ctx.error if notice.level == "error" else ctx.warn)(where, notice.message, "image.inventory")


def _inventory_gaps(ctx: ScanContext, registries: Registries, files: list[FileAnalyzer], since: int) -> None:
    """Errors of the image/rootfs source or its inventory leave incomplete the duties of the post
    analyzers that read the inventory (vulnerability matching): an analyzer with no duties of its own
    (`controls == ()`, the inventory analyzers) feeds them, so its error is theirs; an analyzer with
    duties had them marked by the context already. A source-level error (a layer that could not be
    read, a hostile entry) may have hidden any file, so the file analyzers' duties too. Never a pass
    over what was not read."""
    file_names = {a.name for a in files if a.controls}
    package_scope = sorted(
        {c for post in registries.of(PostAnalyzer) if Package in post.inputs for c in post.controls}  # type: ignore[type-abstract]
    )
    file_scope = sorted({c for a in files for c in a.controls})
    for issue in ctx.issues[since:]:
        if issue.kind != "error" or issue.analyzer in file_names:
            continue
        ctx.coverage.gap(package_scope, issue.path, issue.message)
        if issue.analyzer is None:
            ctx.coverage.gap(file_scope, issue.path, issue.message)


def identity(source: ImageSource) -> ImageIdentity:
    return ImageIdentity(
        reference=source.reference,
        digest=source.manifest_digest,
        config_digest=source.config_digest,
        platform=source.config.platform,
        layers=source.config.diff_ids,
        labels=source.config.labels,
        created=source.config.created,
        env=source.config.env,
    )


def scan_image(
    source: ImageSource,
    registries: Registries,
    ctx: ScanContext,
    *,
    command: str = "image",
    use_cache: bool = True,
    on_layer: Callable[[LayerRef, bool], None] | None = None,
    parallel: bool = True,
    analyzer_filter: Callable[[FileAnalyzer], bool] | None = None,
) -> ScanResult:
    """Run the analyzers (inventory and file analyzers alike, `analyzer_filter` selecting among them) over
    an opened image's files (one pass over each layer), finalize the inventory, run the post analyzers,
    and return the (unwaived) result."""
    started = datetime.now(UTC)
    ctx.command = ctx.command or command
    for warning in source.warnings:
        ctx.warn(source.reference, warning)
    files = file_analyzers(registries, "image", analyzer_filter)
    declare_scopes(files, ctx)
    since = len(ctx.issues)
    facts, records = inventory(
        source, registries, ctx, use_cache=use_cache, on_layer=on_layer, parallel=parallel, files=files
    )
    _add_inventory(ctx, facts)
    findings: list[Finding] = []
    for _path, record in records:
        replay(record, ctx, findings)  # before the gaps: an inventory analyzer's error is among them
    _inventory_gaps(ctx, registries, files, since)
    ctx.facts.add(identity(source))
    run_post_analyzers(registries, ctx, findings)
    return finish(command, source.reference, started, findings, registries, ctx)


def scan_rootfs(
    root: Path,
    registries: Registries,
    ctx: ScanContext,
    *,
    command: str = "rootfs",
    on_file: Callable[[], None] | None = None,
    analyzer_filter: Callable[[FileAnalyzer], bool] | None = None,
) -> ScanResult:
    """Inventory an unpacked root filesystem (one pseudo-layer, no cache), run the file analyzers over
    its files, and match it."""
    from shareguard.sources.rootfs import pseudo_mounts, walk_rootfs

    started = datetime.now(UTC)
    ctx.command = ctx.command or command
    files = file_analyzers(registries, "rootfs", analyzer_filter)
    declare_scopes(files, ctx)
    collector = LayerCollector(None, PathDispatch(files, ctx) if files else None)
    since = len(ctx.issues)
    walk_rootfs(
        root,
        collector,
        ctx.settings.budgets,
        on_file=on_file,
        # shareguard's own cache (layer and data entries, the copies it spools while this walk runs) is not
        # the filesystem's content, also when it lies inside it (a scan of the host's `/`): skipped, with a warning.
        mounts=pseudo_mounts(),
        noted={os.path.realpath(ctx.settings.cache_dir): CACHE_SKIPPED},
        spool_dir=spool_dir(ctx.settings.cache_dir),
        spool_over=SPOOL_BYTES,
    )
    collector.settle()
    _replay(ctx, str(root), collector.result.issues)
    applier: Applier[Item] = Applier()
    applier.add(collector.result)
    facts, records = finalize(applier, registries, ctx)
    _add_inventory(ctx, facts)
    findings: list[Finding] = []
    for _path, record in records:
        replay(record, ctx, findings)  # before the gaps: an inventory analyzer's error is among them
    _inventory_gaps(ctx, registries, files, since)
    run_post_analyzers(registries, ctx, findings)
    return finish(command, str(root), started, findings, registries, ctx)
