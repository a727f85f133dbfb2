"""File analyzers over sources walked by path: image layers and root filesystems.

Every analyzer is a file analyzer (`core/analyzer.py`), the image inventory's included. A workspace
offers every file to every analyzer's `claims` (engine.analyze_entries). An image layer is a tar
streamed once, and only the bodies some analyzer wants are read; a root filesystem is opened file by
file. So these sources ask first, per path, which analyzers want it (`PathDispatch.wanting`: the
`PathHint` index, then `required(path, size)` or a path-only `claims`), read the wanted files only,
and then run the analyzers that `claims` the entry with its content (`engine.claimed` /
`engine.analyze_entry`, the same code a workspace goes through).

What the analyzers make of one file is kept as a `FileRecord` (findings, facts, coverage calls and
issues) under its path, so that:
- the layer applier deletes it with the file (a whiteout or an upper layer's replacement removes the
  lower file's facts and findings);
- the layer and image caches store it (`image/cache.py`), and a warm rescan replays it (`replay`)
  instead of re-reading the layer;
- the facts of the files still present once every layer is applied go to the image's finalizers
  (`image/scan.finalize`) together.

A wanted body over `SPOOL_BYTES` is not held in memory: the source writes it to a temporary file
under the scan's cache directory (`spool_dir`) and the analyzers get an entry with `abs_path` (the
model readers stream from files); `run` deletes the file when they are done, also when one fails.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

from shareguard.core.analyzer import FileAnalyzer, PathHint
from shareguard.core.context import ScanContext, ScanIssue
from shareguard.core.coverage import Coverage, RuleSet
from shareguard.core.engine import analyze_entry, claimed
from shareguard.core.entry import ContentNeeded, FileEntry
from shareguard.core.facts import Fact
from shareguard.core.finding import Finding

INSTALLED_PREFIXES = (
    "bin/",
    "sbin/",
    "lib/",
    "lib32/",
    "lib64/",
    "libx32/",
    "boot/",
    "usr/bin/",
    "usr/sbin/",
    "usr/lib/",
    "usr/lib32/",
    "usr/lib64/",
    "usr/libx32/",
    "usr/libexec/",
    "usr/include/",
    "usr/share/",
    "usr/local/lib/",
    "usr/local/include/",
    "usr/local/share/",
    "usr/local/cuda",
    "opt/conda/pkgs/",
    "var/lib/",
    "var/cache/",
    "proc/",
    "sys/",
    "dev/",
)
"""Directories a package manager or vendor installer owns: the OS's programs, libraries, data and
databases, the CUDA toolkit, conda's package cache."""
INSTALLED_PARTS = ("/site-packages/", "/dist-packages/", "/node_modules/", "/conda-meta/", "/lib/python")
"""Installed-software trees wherever they are (virtualenvs, conda environments, `usr/local`)."""

SPOOL_BYTES = 8 * 1024 * 1024
"""Wanted bodies larger than this are spooled to a temporary file instead of held in memory."""


def spool_dir(cache_dir: Path) -> Path:
    """Where a scan spools large wanted bodies: inside its cache directory (shareguard writes nowhere else)."""
    return cache_dir / "tmp"


COVERAGE_CALLS = frozenset({"evaluated", "gap", "unassessed", "input_evaluated", "input_skipped", "could_not_analyse"})
"""The `Coverage` methods a record replays (a cache entry naming anything else is refused)."""


def installed_tree(path: str) -> bool:
    """True for a path inside installed software (see `INSTALLED_PREFIXES` / `INSTALLED_PARTS`)."""
    if path.startswith(INSTALLED_PREFIXES):
        return True
    slashed = f"/{path}"
    return any(part in slashed for part in INSTALLED_PARTS)


@dataclass
class FileRecord:
    """What the file analyzers made of one file of a layer (or of a root filesystem)."""

    findings: list[Finding] = field(default_factory=list)
    facts: list[Fact] = field(default_factory=list)
    coverage: list[tuple[str, tuple[object, ...]]] = field(default_factory=list)
    """`Coverage` calls in order: (method, arguments)."""
    issues: list[tuple[str, str, str | None, str]] = field(default_factory=list)
    """(path, message, analyzer, kind) as in ScanIssue."""


class RecordingCoverage(Coverage):
    """A `Coverage` that records the calls made on it instead of applying them (replayed later)."""

    def __init__(self, calls: list[tuple[str, tuple[object, ...]]]) -> None:
        super().__init__()
        self.calls = calls

    def evaluated(self, rule: str, controls: Iterable[str], resource: str) -> None:
        self.calls.append(("evaluated", (rule, tuple(controls), resource)))

    def evaluated_all(self, rules: RuleSet, resource: str) -> None:
        # Recorded rule by rule: a record replays (and a cache entry stores) only the plain calls.
        for rule, controls in rules.rules:
            self.calls.append(("evaluated", (rule, controls, resource)))

    def gap(self, controls: Iterable[str], path: str, reason: str) -> None:
        self.calls.append(("gap", (tuple(controls), path, reason)))

    def unassessed(self, controls: Iterable[str], reason: str) -> None:
        self.calls.append(("unassessed", (tuple(controls), reason)))

    def input_evaluated(self, analyzer: str, path: str) -> None:
        self.calls.append(("input_evaluated", (analyzer, path)))

    def input_skipped(self, analyzer: str, path: str, reason: str) -> None:
        self.calls.append(("input_skipped", (analyzer, path, reason)))

    def could_not_analyse(self, analyzer: str | None, path: str, reason: str) -> None:
        self.calls.append(("could_not_analyse", (analyzer, path, reason)))


def replay(record: FileRecord, ctx: ScanContext, findings: list[Finding]) -> None:
    """File a record into the scan: what `engine.consume` and `ctx.error`/`ctx.warn` did when it was made
    (an image's facts go through its finalizers first and are left out of the records replayed)."""
    findings.extend(record.findings)
    ctx.facts.extend(record.facts)
    coverage = ctx.coverage
    for method, args in record.coverage:
        if method in COVERAGE_CALLS:
            getattr(coverage, method)(*args)
    ctx.issues.extend(ScanIssue(p, m, a, k) for p, m, a, k in record.issues)


def over_budget_message(size: int, budget: int, analyzer: str) -> str:
    """The issue of a wanted file too large for an analyzer (never a silent skip)."""
    return f"not analysed: {size} bytes is over the {budget}-byte budget of {analyzer}"


def analyzer_budget(analyzer: object, path: str) -> int | None:
    """The analyzer's byte budget for a path it wants (its optional `max_bytes(path)`), None for none."""
    max_bytes = getattr(analyzer, "max_bytes", None)
    if not callable(max_bytes):
        return None
    try:
        budget = max_bytes(path)
    except Exception:  # a budget bug must not lose the file: analyze it, the analyzer bounds its reads
        return None
    return budget if isinstance(budget, int) else None


_Candidate = tuple[int, FileAnalyzer, Callable[[str, int], bool] | None]
"""(registration order, analyzer, its `required` or None)."""
_Group = tuple[_Candidate, ...]
_NONE: _Group = ()


def _add(index: dict[str, list[_Candidate]], key: str, candidate: _Candidate) -> None:
    index.setdefault(key, []).append(candidate)


def _frozen(index: dict[str, list[_Candidate]]) -> dict[str, _Group]:
    return {k: tuple(v) for k, v in index.items()}


class PathIndex:
    """The analyzers' path hints as dicts: which analyzers a path may interest, in a few lookups
    whatever their number (file name, extension as written and lower-cased, last character), plus
    those hinted by prefix and those without a hint (asked about every path).

    `installed_trees`: index only the analyzers shown installed-software trees (`PathHint.installed`)."""

    def __init__(self, analyzers: list[FileAnalyzer], *, installed_trees: bool = False) -> None:
        names: dict[str, list[_Candidate]] = {}
        extensions: dict[str, list[_Candidate]] = {}
        folded: dict[str, list[_Candidate]] = {}
        last: dict[str, list[_Candidate]] = {}
        prefixed: list[tuple[tuple[str, ...], _Group]] = []
        always: list[_Candidate] = []
        for order, a in enumerate(analyzers):
            hint = getattr(a, "path_hint", None)
            candidate = (order, a, getattr(a, "required", None))
            if not isinstance(hint, PathHint):
                if not installed_trees:
                    always.append(candidate)
                continue
            if installed_trees and not hint.installed:
                continue
            if "" in hint.prefixes:
                always.append(candidate)
                continue
            for name in hint.names:
                _add(names, name, candidate)
            for ext in hint.extensions:
                _add(extensions, ext, candidate)
            for ext in hint.folded_extensions:
                _add(folded, ext.lower(), candidate)
            for char in hint.last_chars:
                _add(last, char, candidate)
            if hint.prefixes:
                prefixed.append((hint.prefixes, (candidate,)))
        self.names = _frozen(names)
        self.extensions = _frozen(extensions)
        self.folded = _frozen(folded)
        self.last = _frozen(last)
        self.prefixed = tuple(prefixed)
        self.prefixes = tuple(p for ps, _ in prefixed for p in ps)
        self.always: _Group = tuple(always)
        self._merged: dict[tuple[int, ...], _Group] = {}
        """Unions of the groups above (keyed by their ids: they live as long as the index)."""

    def candidates(self, path: str) -> _Group:
        """The analyzers whose hint admits `path`, in registration order."""
        name = path[path.rfind("/") + 1 :]
        found: list[_Group] = []
        hit = self.names.get(name)
        if hit:
            found.append(hit)
        dot = name.rfind(".")
        if dot >= 0:
            ext = name[dot:]
            hit = self.extensions.get(ext)
            if hit:
                found.append(hit)
            if self.folded:
                hit = self.folded.get(ext.lower())
                if hit:
                    found.append(hit)
        if self.last:
            hit = self.last.get(path[-1:])
            if hit:
                found.append(hit)
        if self.prefixes and path.startswith(self.prefixes):
            found.extend(group for ps, group in self.prefixed if path.startswith(ps))
        if self.always:
            found.append(self.always)
        if not found:
            return _NONE
        if len(found) == 1:
            return found[0]
        key = tuple(map(id, found))
        merged = self._merged.get(key)
        if merged is None:
            union = {c[0]: c for group in found for c in group}
            merged = self._merged[key] = tuple(union[k] for k in sorted(union))
        return merged


class PathDispatch:
    """Which file analyzers want a path, and what they make of a file's content.

    `wanting` costs a few dict lookups for a path no hint admits (`PathIndex`: one over every analyzer,
    one over those shown installed-software trees); analyzers without a hint are asked about every path
    outside installed-software trees."""

    def __init__(self, analyzers: list[FileAnalyzer], ctx: ScanContext) -> None:
        self.analyzers = analyzers
        self._ctx = ctx
        self._everywhere = PathIndex(analyzers)
        self._installed = PathIndex(analyzers, installed_trees=True)
        self._last: tuple[str, int, list[FileAnalyzer], list[tuple[FileAnalyzer, int]]] = ("", -1, [], [])
        """The last path asked about: (path, size, the analyzers that want it, those it is too large for)."""
        self._tree: tuple[str, PathIndex] = ("\0", self._everywhere)
        """The last directory asked about and the index that serves it."""

    def fork(self) -> PathDispatch:
        """A dispatch over the same analyzers and path indexes with a memo of its own (the last path and
        directory asked about): one per thread that walks paths, when layers are read at once."""
        twin = copy.copy(self)
        twin._last = ("", -1, [], [])
        twin._tree = ("\0", self._everywhere)
        return twin

    def wanting(self, path: str, size: int) -> list[FileAnalyzer]:
        """The analyzers that want `path` and whose byte budget (`max_bytes(path)`, optional) `size` fits;
        those it is too large for are `over_budget`."""
        last = self._last
        if last[0] == path and last[1] == size:
            return last[2]
        # `installed_tree`, once per directory (a layer lists a directory's files together)
        parent = path[: path.rfind("/") + 1]
        tree = self._tree
        if tree[0] != parent:
            tree = self._tree = (parent, self._installed if installed_tree(path) else self._everywhere)
        candidates = tree[1].candidates(path)
        if candidates:
            wanting, over = self._wanting(path, size, candidates)
        else:
            wanting, over = [], []
        self._last = (path, size, wanting, over)
        return wanting

    def over_budget(self, path: str, size: int) -> FileRecord | None:
        """A wanted file too large for some analyzers that want it: for each, an error issue naming it
        (its duties, or the matcher's for an inventory analyzer, become incomplete), never a silent skip."""
        self.wanting(path, size)
        over = self._last[3]
        if not over:
            return None
        record = FileRecord()
        for analyzer, budget in over:
            message = over_budget_message(size, budget, analyzer.name)
            record.issues.append((path, message, analyzer.name, "error"))
            record.coverage.append(("could_not_analyse", (analyzer.name, path, message)))
        return record

    def _wanting(
        self, path: str, size: int, candidates: _Group
    ) -> tuple[list[FileAnalyzer], list[tuple[FileAnalyzer, int]]]:
        wanting: list[FileAnalyzer] = []
        over: list[tuple[FileAnalyzer, int]] = []
        probe: FileEntry | None = None
        for _order, a, required in candidates:
            if required is not None:
                try:
                    wanted = bool(required(path, size))
                except Exception:  # the analyzer's own claims will say what is wrong, with the content
                    wanted = True
            else:
                if probe is None:
                    probe = FileEntry.path_only(path, size)
                try:
                    wanted = a.claims(probe)
                except ContentNeeded:
                    wanted = True  # it sniffs content: read the file and ask again
                except Exception:
                    wanted = True
            if wanted:
                budget = analyzer_budget(a, path)
                if budget is not None and size > budget:
                    over.append((a, budget))
                else:
                    wanting.append(a)
        return wanting, over

    def linking(self, path: str, size: int) -> list[FileAnalyzer]:
        """The analyzers that want `path` and analyze a link there under the link's path (`links = True`)."""
        return [a for a in self.wanting(path, size) if getattr(a, "links", False)]

    def analyze(self, path: str, size: int, content: bytes, layer: str | None) -> FileRecord | None:
        """Run the analyzers that want `path` and claim its content; None when nothing came of it."""
        analyzers = self.wanting(path, size)
        if not analyzers:
            return None
        return self.run(path, content, analyzers, layer)

    def run(
        self, path: str, content: bytes | Path, analyzers: list[FileAnalyzer], layer: str | None, *, size: int = -1
    ) -> FileRecord | None:
        """`analyze` with the wanting analyzers already known: touches no state of the dispatch, so it
        may run on another thread than the one walking the paths. `content` is the body, or a spooled
        temporary file (with its `size`) that is deleted when the analyzers are done."""
        done = self.run_many([(path, analyzers)], content, layer, size=size)
        return done[0][1] if done else None

    def run_many(
        self, jobs: list[tuple[str, list[FileAnalyzer]]], content: bytes | Path, layer: str | None, *, size: int = -1
    ) -> list[tuple[str, FileRecord]]:
        """`run` for one body under several paths (a file and the links to it); a spooled file is
        deleted after the last."""
        out: list[tuple[str, FileRecord]] = []
        try:
            for path, analyzers in jobs:
                if isinstance(content, Path):
                    entry = FileEntry(rel_path=path, size=size, abs_path=content, layer=layer)
                else:
                    entry = FileEntry(rel_path=path, size=len(content), data=content, layer=layer)
                record = self._run(entry, analyzers, layer)
                if record is not None:
                    out.append((path, record))
        finally:
            if isinstance(content, Path):
                content.unlink(missing_ok=True)
        return out

    def _run(self, entry: FileEntry, analyzers: list[FileAnalyzer], layer: str | None) -> FileRecord | None:
        path = entry.rel_path
        record = FileRecord()
        ctx = self._ctx
        recording = ScanContext(
            settings=ctx.settings, root=ctx.root, options=ctx.options, coverage=RecordingCoverage(record.coverage)
        )
        for analyzer in analyzers:
            try:
                claims = claimed(analyzer, entry, recording)
            except Exception as exc:  # a claim bug must not lose the rest of the layer
                recording.error(path, f"internal error in {analyzer.name} ({type(exc).__name__}: {exc})", analyzer.name)
                continue
            if claims:
                analyze_entry(analyzer, entry, recording, record.findings)
        record.facts = list(recording.facts)
        record.issues = [(i.path, i.message, i.analyzer, i.kind) for i in recording.issues]
        if layer is not None and record.findings:
            record.findings = [
                f.model_copy(update={"location": f.location.model_copy(update={"layer_digest": layer})})
                for f in record.findings
            ]
        if not (record.findings or record.facts or record.coverage or record.issues):
            return None
        return record

    def not_read(self, path: str, size: int, reason: str) -> FileRecord | None:
        """A wanted file the source could not read (over the member budget, unreadable): each analyzer
        that wanted it could not analyse it, an error naming it, so its duties (an inventory analyzer's:
        the matcher's) are incomplete."""
        analyzers = self.wanting(path, size)
        if not analyzers:
            return None
        message = f"not analysed: {reason}"
        return FileRecord(
            coverage=[("could_not_analyse", (a.name, path, message)) for a in analyzers],
            issues=[(path, message, a.name, "error") for a in analyzers],
        )
