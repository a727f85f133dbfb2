"""Image and root-filesystem scans: stream layers once, ask the analyzers, merge, match.

Per layer: look up the layer cache; on a miss stream the layer, hand the files some inventory
analyzer `required` to it and the files some file analyzer wants to those (`core/dispatch.py`:
model files, ML code, configuration — the analyzers `audit` runs on a workspace), keep
{path: facts and file records}, the path list, whiteouts and opaque dirs, and cache that.
Then apply the layers (upper wins, whiteouts delete a file's facts and findings alike), run the
finalizers over the merged inventory facts, replay the surviving file records (findings naming the
path in the image and the layer's diff id), add the image identity, and run the post analyzers (the
vulnerability matcher is one).
"""

from __future__ import annotations

import posixpath
from collections import deque
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path

from shareguard.core.analyzer import FileAnalyzer, PostAnalyzer
from shareguard.core.context import ScanContext, ScanIssue
from shareguard.core.dispatch import FileRecord, PathDispatch, replay
from shareguard.core.engine import declare_scopes, finish, run_post_analyzers
from shareguard.core.errors import ShareguardError
from shareguard.core.facts import Fact, ImageIdentity, Package
from shareguard.core.finding import Finding
from shareguard.core.registry import Registries
from shareguard.core.result import ScanResult
from shareguard.image.analyzer import InventoryAnalyzer, InventoryFinalizer, PathHint
from shareguard.image.cache import (
    CodecError,
    ImageCache,
    ImageInventory,
    LayerCache,
    analyzers_key,
    code_key,
    file_analyzers_key,
)
from shareguard.image.facts import InventoryNotice
from shareguard.sources.image.applier import Applier, LayerResult
from shareguard.sources.image.layer import FILE, HLINK, LINK, OPAQUE, WHITEOUT, LayerError, stream_layer
from shareguard.sources.image.model import ImageSource, LayerRef

MAX_KEPT_BYTES = 64 * 1024 * 1024
"""Wanted files kept for the rest of their layer, so links to them can be analyzed too."""
MAX_KEPT_FILE_ONLY = 1024 * 1024
MAX_IN_FLIGHT_BYTES = 96 * 1024 * 1024
"""Content handed to the file-analyzer thread and not yet analyzed; past this the walk waits."""
MAX_LINK_HOPS = 40
_ANALYZER_ERRORS = (ShareguardError, OSError, RecursionError, MemoryError, UnicodeError, ValueError, LookupError)


Item = Fact | FileRecord
"""What a layer keeps per path: inventory facts, and what the file analyzers made of the file."""


def inventory_analyzers(registries: Registries) -> list[InventoryAnalyzer]:
    return list(registries.of(InventoryAnalyzer))  # type: ignore[type-abstract]


def file_analyzers(
    registries: Registries, source: str, analyzer_filter: Callable[[FileAnalyzer], bool] | None = None
) -> list[FileAnalyzer]:
    """The file analyzers that run on `source` (`image` or `rootfs`): those selected by the filter whose
    optional `sources` attribute (default: every source) names it."""
    out = []
    for a in registries.of(FileAnalyzer):  # type: ignore[type-abstract]
        sources = getattr(a, "sources", None)
        if sources is not None and source not in sources:
            continue
        if analyzer_filter is None or analyzer_filter(a):
            out.append(a)
    return out


def layer_key(inventory: list[InventoryAnalyzer], files: list[FileAnalyzer], ctx: ScanContext) -> str:
    """What a cached layer result depends on besides the layer: every analyzer's name and version, and
    for file analyzers their code, rule data and the scan options (see `cache.file_analyzers_key`)."""
    key = analyzers_key([(a.name, a.version) for a in inventory])
    return f"{key};{file_analyzers_key(files, ctx.options)}" if files else key


def inventory_finalizers(registries: Registries) -> list[InventoryFinalizer]:
    """In the order they run."""
    return sorted(registries.of(InventoryFinalizer), key=lambda f: f.order)  # type: ignore[type-abstract]


class LayerCollector:
    """Turns one layer's (or one root filesystem's) entries into a LayerResult.

    The caller reports each entry in stream order; links to files of the same layer are analyzed
    under the link's path (e.g. Debian's `etc/os-release -> ../usr/lib/os-release`).
    """

    def __init__(
        self,
        diff_id: str | None,
        analyzers: list[InventoryAnalyzer],
        files: PathDispatch | None = None,
        pool: ThreadPoolExecutor | None = None,
    ) -> None:
        self.result: LayerResult[Item] = LayerResult(diff_id)
        self._analyzers = analyzers
        self._files = files
        self._pool = pool
        """File analyzers run here when given: their CPU overlaps the walk's waits for the inflater."""
        self._running: deque[tuple[str, int, Future[FileRecord | None]]] = deque()
        self._running_bytes = 0
        self._kept: dict[str, bytes] = {}
        self._kept_bytes = 0
        self._pending: dict[str, list[str]] = {}
        self._links: dict[str, str] = {}
        self._last: tuple[str, list[InventoryAnalyzer]] = ("", [])
        self._by_last: dict[str, tuple[tuple[InventoryAnalyzer, tuple[str, ...] | None], ...]] = {}

    def issue(self, path: str, message: str, is_error: bool) -> None:
        self.result.issues.append((path, message, is_error))

    def _candidates(self, last: str) -> tuple[tuple[InventoryAnalyzer, tuple[str, ...] | None], ...]:
        """The analyzers whose `path_hint` admits a path ending in `last` (in registry order), each
        with the prefixes still to check (None: ask it)."""
        out: list[tuple[InventoryAnalyzer, tuple[str, ...] | None]] = []
        for a in self._analyzers:
            hint = getattr(a, "path_hint", None)
            if not isinstance(hint, PathHint) or last in hint.last_chars:
                out.append((a, None))
            elif hint.prefixes:
                out.append((a, hint.prefixes))
        found = self._by_last[last] = tuple(out)
        return found

    def _wanting(self, path: str, size: int) -> list[InventoryAnalyzer]:
        if self._last[0] == path:
            return self._last[1]
        last = path[-1:]
        candidates = self._by_last.get(last)
        if candidates is None:
            candidates = self._candidates(last)
        wanting = []
        for a, prefixes in candidates:
            if prefixes is not None and not path.startswith(prefixes):
                continue
            try:
                if a.required(path, size):
                    wanting.append(a)
            except _ANALYZER_ERRORS as exc:
                self.issue(path, f"{a.name}: {type(exc).__name__}: {exc}", True)
        self._last = (path, wanting)
        return wanting

    def wants(self, path: str, size: int) -> bool:
        return (
            bool(self._wanting(path, size))
            or path in self._pending
            or (self._files is not None and bool(self._files.wanting(path, size)))
        )

    def _analyze(self, path: str, content: bytes, analyzers: list[InventoryAnalyzer]) -> None:
        for a in analyzers:
            try:
                facts = a.analyze(path, content, self.result.diff_id)
            except _ANALYZER_ERRORS as exc:
                self.issue(path, f"{a.name}: {type(exc).__name__}: {exc}", True)
                continue
            if facts:
                self.result.facts.setdefault(path, []).extend(facts)

    def _analyze_file(self, path: str, size: int, content: bytes | None) -> None:
        """The file analyzers, on regular files only (links are not followed, as in a workspace)."""
        files = self._files
        if files is None:
            return
        if content is None:
            self._keep(path, files.not_read(path, size, "not read (over the member budget or unreadable)"))
            return
        analyzers = files.wanting(path, size)
        if not analyzers:
            return
        if self._pool is None:
            self._keep(path, files.run(path, content, analyzers, self.result.diff_id))
            return
        while self._running and self._running_bytes + len(content) > MAX_IN_FLIGHT_BYTES:
            self._settle_one()
        self._running.append(
            (path, len(content), self._pool.submit(files.run, path, content, analyzers, self.result.diff_id))
        )
        self._running_bytes += len(content)

    def _keep(self, path: str, record: FileRecord | None) -> None:
        if record is not None:
            self.result.facts.setdefault(path, []).append(record)

    def _settle_one(self) -> None:
        path, size, future = self._running.popleft()
        self._running_bytes -= size
        self._keep(path, future.result())

    def settle(self) -> None:
        """Wait for the file analyzers still running on this layer's files and keep their records."""
        while self._running:
            self._settle_one()

    def abandon(self) -> None:
        """The layer could not be read: wait for (and drop) what is still running."""
        while self._running:
            _, _, future = self._running.popleft()
            future.cancel() or future.exception()
        self._running_bytes = 0

    def file(self, path: str, size: int, content: bytes | None) -> None:
        self.result.paths.append(path)
        if content is None:
            if self._files is not None and self._files.wanting(path, size):
                self._analyze_file(path, size, None)
            return
        inventory = self._wanting(path, size)
        self._analyze(path, content, inventory)
        self._analyze_file(path, size, content)
        links = self._pending.pop(path, ())
        for link in links:
            self._analyze(link, content, self._wanting(link, size))
        # Kept for links the inventory may want later; a file read only for the file analyzers (a
        # model checkpoint) is kept only when small.
        if (inventory or len(content) <= MAX_KEPT_FILE_ONLY) and self._kept_bytes + len(content) <= MAX_KEPT_BYTES:
            self._kept[path] = content
            self._kept_bytes += len(content)

    def symlink(self, path: str, target: str) -> None:
        self.result.paths.append(path)
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
        if not self._wanting(path, 0):
            return
        if resolved in self._kept:
            self._analyze(path, self._kept[resolved], self._wanting(path, len(self._kept[resolved])))
        else:
            self._pending.setdefault(resolved, []).append(path)

    def hardlink(self, path: str, target: str) -> None:
        self.result.paths.append(path)
        if target in self._kept and self._wanting(path, len(self._kept[target])):
            self._analyze(path, self._kept[target], self._wanting(path, len(self._kept[target])))


def read_layer(
    layer: LayerRef,
    analyzers: list[InventoryAnalyzer],
    ctx: ScanContext,
    *,
    parallel: bool = True,
    ring: list[bytearray | None] | None = None,
    files: PathDispatch | None = None,
    pool: ThreadPoolExecutor | None = None,
) -> LayerResult[Item]:
    """Stream one layer once; raises LayerError when it cannot be read as a whole."""
    collector = LayerCollector(layer.diff_id, analyzers, files, pool)
    try:
        _stream_into(layer, collector, ctx, parallel=parallel, ring=ring)
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
    ring: list[bytearray | None] | None,
) -> None:
    budgets = ctx.settings.budgets
    result = collector.result
    for entry in stream_layer(
        layer,
        collector.wants,
        max_member_bytes=budgets.max_member_bytes,
        max_members=budgets.max_files,
        max_decompressed_bytes=budgets.max_decompressed_bytes,
        on_issue=collector.issue,
        parallel=parallel,
        ring=ring,
    ):
        kind = entry.kind
        if kind == FILE:
            collector.file(entry.path, entry.size, entry.content)
        elif kind == LINK:
            collector.symlink(entry.path, entry.link)
        elif kind == HLINK:
            collector.hardlink(entry.path, entry.link)
        elif kind == WHITEOUT:
            result.whiteouts.append(entry.path)
        elif kind == OPAQUE:
            result.opaque.append(entry.path)


def _replay(ctx: ScanContext, where: str, issues: list[tuple[str, str, bool]]) -> None:
    for path, message, is_error in issues:
        (ctx.error if is_error else ctx.warn)(f"{where}: {path}", message)


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
) -> Applier[Item]:
    """Read (or fetch from the cache) every layer in order and apply it; `incomplete` collects the names
    of layers that could not be read or whose result could not be cached."""
    analyzers = inventory_analyzers(registries)
    files = files or []
    dispatch = PathDispatch(files, ctx) if files else None
    cache = LayerCache(ctx.settings.cache_dir, layer_key(analyzers, files, ctx))
    applier: Applier[Item] = Applier()
    hits = 0
    # Cache writes (JSON + zlib of ~200k paths) run beside the next layer's read, not before it.
    writes: list[tuple[LayerRef, Future[None]]] = []
    ring: list[bytearray | None] = []  # decompression buffers reused by every layer of this image
    with (
        ThreadPoolExecutor(max_workers=1, thread_name_prefix="layer-cache") as writer,
        ThreadPoolExecutor(max_workers=1, thread_name_prefix="file-analyzers") as pool,
    ):
        for layer in source.layers:
            result = cache.get(layer.digest, layer.diff_id) if use_cache else None
            hit = result is not None
            if result is None:
                try:
                    result = read_layer(
                        layer,
                        analyzers,
                        ctx,
                        parallel=parallel,
                        ring=ring,
                        files=dispatch,
                        pool=pool if files else None,
                    )
                except LayerError as exc:
                    ctx.error(layer.name, f"layer not scanned: {exc}")
                    if incomplete is not None:
                        incomplete.append(layer.name)
                    if on_layer is not None:
                        on_layer(layer, False)
                    continue
                if use_cache:
                    writes.append((layer, writer.submit(cache.put, layer.digest, layer.diff_id, result)))
            else:
                hits += 1
            _replay(ctx, layer.name, result.issues)
            applier.add(result)
            if on_layer is not None:
                on_layer(layer, hit)
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


def finalize(
    applier: Applier[Item], registries: Registries, ctx: ScanContext
) -> tuple[list[Fact], list[tuple[str, FileRecord]]]:
    """The finalized inventory facts, and the file records of the files still present (in path order)."""
    facts: list[Fact] = []
    records: list[tuple[str, FileRecord]] = []
    for path in sorted(applier.facts):
        for item in applier.facts[path]:
            if isinstance(item, FileRecord):
                records.append((path, item))
            else:
                facts.append(item)
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
    if use_cache:
        analyzers = inventory_analyzers(registries)
        images = ImageCache(
            ctx.settings.cache_dir,
            layer_key(analyzers, files or [], ctx),
            code_key(list(inventory_finalizers(registries))),
        )
        hit = images.get(layers)
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
    """Errors of the image/rootfs source or its inventory (not of a file analyzer, whose own duties the
    context already marked) leave incomplete the duties of the post analyzers that read the inventory
    (vulnerability matching); a source-level error (a layer that could not be read, a hostile entry) may
    have hidden any file, so the file analyzers' duties too. Never a pass over what was not read."""
    file_names = {a.name for a in files}
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
    """Inventory an opened image and run the file analyzers over its files (one pass over each layer),
    run the post analyzers, and return the (unwaived) result."""
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
    _inventory_gaps(ctx, registries, files, since)
    findings: list[Finding] = []
    for _path, record in records:
        replay(record, ctx, findings)
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
    from shareguard.sources.rootfs import walk_rootfs

    started = datetime.now(UTC)
    ctx.command = ctx.command or command
    files = file_analyzers(registries, "rootfs", analyzer_filter)
    declare_scopes(files, ctx)
    collector = LayerCollector(None, inventory_analyzers(registries), PathDispatch(files, ctx) if files else None)
    since = len(ctx.issues)
    walk_rootfs(root, collector, ctx.settings.budgets, on_file=on_file)
    _replay(ctx, str(root), collector.result.issues)
    applier: Applier[Item] = Applier()
    applier.add(collector.result)
    facts, records = finalize(applier, registries, ctx)
    _add_inventory(ctx, facts)
    _inventory_gaps(ctx, registries, files, since)
    findings: list[Finding] = []
    for _path, record in records:
        replay(record, ctx, findings)
    run_post_analyzers(registries, ctx, findings)
    return finish(command, str(root), started, findings, registries, ctx)
