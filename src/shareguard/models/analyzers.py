"""The FileAnalyzers of this capability: model files, ML code, dependency pins."""

from __future__ import annotations

import posixpath
import struct
import tarfile
import zipfile
from collections.abc import Iterable

from shareguard.core.analyzer import Output, PathHint
from shareguard.core.context import ScanContext
from shareguard.core.coverage import Evaluation, Gap, Unassessed
from shareguard.core.entry import FileEntry
from shareguard.core.errors import BudgetExceeded
from shareguard.models.formats.blob import Budget, CorruptData
from shareguard.models.formats.env import Env
from shareguard.models.formats.sniff import MODEL_EXTENSIONS, Kind, sniff, suffix
from shareguard.models.rules import rule
from shareguard.models.sink import FindingSink, Where

CONTROLS = ("DLC-C-03", "DLVM-C-03", "DATAFLOW-C-08")
_PARSER_ERRORS = (
    IndexError,
    KeyError,
    OverflowError,
    EOFError,
    ValueError,
    OSError,
    tarfile.TarError,
    zipfile.BadZipFile,
    struct.error,
    NotImplementedError,
    RecursionError,
    UnicodeError,
)
VERSION = "1"


class ModelFileAnalyzer:
    """Every file whose bytes are a model format (or whose name says it should be one)."""

    name = "models.files"
    version = VERSION
    controls: tuple[str, ...] = CONTROLS
    path_hint = PathHint.ending(*MODEL_EXTENSIONS, ".pb")  # saved_model.pb, frozen graphs

    def required(self, path: str, size: int) -> bool:
        """Where reading a file costs (image layers, root filesystems): model extensions only; a
        workspace also sniffs every file's first bytes (`claims`)."""
        return size > 0 and (suffix(path) in MODEL_EXTENSIONS or path.endswith(".pb"))

    def claims(self, entry: FileEntry) -> bool:
        if entry.suffix in MODEL_EXTENSIONS:
            return True
        if entry.size == 0:
            return False
        return sniff(entry.head(4096), entry.rel_path) is not Kind.UNKNOWN

    def analyze(self, entry: FileEntry, ctx: ScanContext) -> Iterable[Output]:
        """Findings, an `Evaluation` per rule a reader really evaluated on the file, and a per-file
        issue (the file's duties `incomplete`) for each part that could not be analysed."""
        # The format readers (pickle, zip, HDF5, ONNX…) are imported with the first model file, not by every
        # command line that registers this analyzer (a warm image rescan reads no file).
        from shareguard.models.inspect import inspect_stream

        sink = FindingSink(self.name)
        budgets = ctx.settings.budgets
        env = Env(
            settings=ctx.settings,
            sink=sink,
            budget=Budget(remaining=budgets.max_decompressed_bytes),
            inspect=inspect_stream,
            root_dir=posixpath.dirname(entry.rel_path),
        )
        where = Where(entry.rel_path)
        with entry.open() as fh:
            try:
                inspect_stream(env, where, fh, entry.size, entry.rel_path)
            except BudgetExceeded as exc:
                sink.not_analysed(where, f"over the decompression budget, the rest not analysed: {exc.message}")
            except CorruptData as exc:
                sink.not_analysed(where, f"corrupt data, the rest not analysed: {exc}")
            except _PARSER_ERRORS as exc:
                # Defence in depth: a library parser (zipfile, tarfile, h5py) failing on hostile
                # bytes must leave the file incomplete, never a crash or a silently "clean" file.
                sink.not_analysed(where, f"could not be fully analysed ({type(exc).__name__}: {exc})")
        report_cap(sink, entry.rel_path, ctx, self.name)
        report_gaps(sink, entry.rel_path, ctx, self.name)
        return [*sink.result(), *evaluations(sink, entry.rel_path)]


def evaluations(sink: FindingSink, resource: str) -> list[Evaluation]:
    """The rules the readers really evaluated on this file, as coverage records."""
    return [Evaluation(r, rule(r).control_ids, resource) for r in sink.evaluated]


def report_gaps(sink: FindingSink, path: str, ctx: ScanContext, analyzer: str) -> None:
    """Each part not analysed is a per-file issue that leaves the analyzer's duties incomplete; content
    that is not a model format shareguard analyses is said as a warning (no verdict changes)."""
    for where, reason in sink.gaps:
        ctx.error(path, f"{where.member}: {reason}" if where.member else reason, analyzer)
    if sink.gaps_dropped:
        ctx.error(path, f"{sink.gaps_dropped} further parts not analysed", analyzer)
    for where, reason in sink.notes:
        ctx.warn(path, f"{where.member}: {reason}" if where.member else reason, analyzer)


def report_cap(sink: FindingSink, path: str, ctx: ScanContext, analyzer: str) -> None:
    """Findings past the per-file cap are summarised by rule (`FindingSink.result`); say so once."""
    message = sink.cap_message()
    if message is not None:
        ctx.warn(path, message, analyzer)


MAX_CODE_BYTES = 8 * 1024 * 1024
ENV_FILES = (".env", ".envrc", ".bashrc", ".profile")


class MLCodeAnalyzer:
    """Python sources, notebooks and env/shell files: unsafe model loading in code."""

    name = "models.code"
    version = VERSION
    controls: tuple[str, ...] = CONTROLS
    path_hint = PathHint.ending(".py", ".ipynb", ".sh", ".env", *ENV_FILES)

    def required(self, path: str, size: int) -> bool:
        return self.claims(FileEntry.path_only(path, size))

    def claims(self, entry: FileEntry) -> bool:
        n = entry.name.lower()
        return entry.suffix in (".py", ".ipynb", ".sh") or n in ENV_FILES or n.endswith(".env")

    def analyze(self, entry: FileEntry, ctx: ScanContext) -> Iterable[Output]:
        """Findings, an `Evaluation` per rule whose construct occurs in the code and was judged (a file
        without any evaluates nothing), and `ctx.error` for code that does not parse (its duties
        `incomplete`: what it holds is unknown). Python text without any of the constructs
        (`ast_checks.may_judge`) is parsed but not walked: it evaluates nothing, as the walk would find."""
        from shareguard.models.code.ast_checks import CodeHit, scan_env_text, scan_source
        from shareguard.models.code.notebook import read_notebook

        text = entry.read_text(min(MAX_CODE_BYTES, ctx.settings.budgets.max_config_bytes))
        sink = FindingSink(self.name)
        where = Where(entry.rel_path)
        gaps: list[Gap] = []
        hits: list[tuple[str | None, CodeHit]] = []
        if entry.suffix == ".py":
            try:
                code = scan_source(text, entry.rel_path, prefilter=True)
            except (SyntaxError, ValueError, RecursionError, MemoryError) as exc:
                ctx.error(entry.rel_path, f"Python source does not parse ({_why(exc)}); not checked", self.name)
                return []
            hits = [(None, h) for h in code.hits]
            sink.evaluate(*sorted(code.evaluated))
        elif entry.suffix == ".ipynb":
            try:
                language, cells = read_notebook(text)
            except (ValueError, RecursionError) as exc:
                ctx.error(entry.rel_path, f"not a readable notebook ({_why(exc)}); not checked", self.name)
                return []
            if language not in ("python", "python3", "ipython", "ipython3"):
                return []  # another kernel's code: nothing in the scope of Python checks
            for cell in cells:
                try:
                    code = scan_source(cell.source, entry.rel_path, prefilter=True)
                except (SyntaxError, ValueError, RecursionError, MemoryError) as exc:
                    # The rest of the notebook was checked; this cell was not, so its duties cannot pass.
                    reason = f"cells[{cell.index}] does not parse as Python ({_why(exc)}); not checked"
                    ctx.warn(entry.rel_path, reason, self.name)
                    gaps.append(Gap(self.controls, entry.rel_path, reason))
                    continue
                hits.extend((f"cells[{cell.index}]", h) for h in code.hits)
                sink.evaluate(*sorted(code.evaluated))
        else:
            code = scan_env_text(text)
            hits = [(None, h) for h in code.hits]
            sink.evaluate(*sorted(code.evaluated))
        for field_path, h in hits:
            key = f"{field_path or ''}:{h.evidence}"
            sink.add(
                h.rule_id,
                where,
                title=h.title,
                evidence=h.evidence,
                line=h.line,
                severity=h.severity,
                key=key,
                resource_type="source_file",
                properties={"cell": field_path} if field_path else None,
            )
        report_cap(sink, entry.rel_path, ctx, self.name)
        # the field path of a notebook finding goes into the location
        findings = [
            f.model_copy(update={"location": f.location.model_copy(update={"field_path": f.properties.get("cell")})})
            if f.properties.get("cell")
            else f
            for f in sink.result()
        ]
        return [*findings, *evaluations(sink, entry.rel_path), *gaps]


def _why(exc: BaseException) -> str:
    """`SyntaxError: invalid syntax (line 3)`: the parser's reason in one line."""
    if isinstance(exc, SyntaxError) and exc.msg:
        return f"{type(exc).__name__}: {exc.msg}" + (f" (line {exc.lineno})" if exc.lineno else "")
    return f"{type(exc).__name__}: {' '.join(str(exc).split())[:200]}" if str(exc) else type(exc).__name__


LOOSE_PINS = "declared dependencies without an exact pin (==) are not matched against advisories"


class DependencyAnalyzer:
    """Dependency files: a `Package` fact (PyPI, origin `pip`) for every exact pin. The vulnerability
    matcher (`vuln.osv`) matches them as it matches an image's installed packages: one path, one finding
    per (package, vulnerability). Rule MLCODE-011 (a built-in table of framework CVEs) is retired."""

    name = "models.deps"
    version = "2"
    controls: tuple[str, ...] = CONTROLS
    """The duties of declared application dependencies (VULN-APP-DEPENDENCY): evaluated by the
    vulnerability matcher that reads its facts; a dependency file it cannot parse leaves them incomplete."""
    sources = frozenset({"workspace"})
    """Not image layers or root filesystems: there the installed packages are inventoried; a pin in a
    requirements file baked into an image says what was asked for, not what is installed."""

    def claims(self, entry: FileEntry) -> bool:
        from shareguard.models.code.deps import is_dependency_file

        return is_dependency_file(entry.name)

    def analyze(self, entry: FileEntry, ctx: ScanContext) -> Iterable[Output]:
        from shareguard.core.facts import Package
        from shareguard.models.code.deps import parse

        text = entry.read_text(ctx.settings.budgets.max_config_bytes)
        try:
            deps = parse(entry.name, text)
        except (ValueError, KeyError, TypeError, AttributeError) as exc:
            ctx.error(entry.rel_path, f"dependency file not parsed: {type(exc).__name__}: {exc}", self.name)
            return []
        out: list[Output] = []
        if any(dep.pinned is None for dep in deps):
            # Only exact pins can be matched: silence about the others is not a pass (said once per scan).
            out.append(Unassessed(self.controls, LOOSE_PINS))
        return out + [
            Package(
                name=dep.name,
                version=dep.pinned,
                ecosystem="PyPI",
                path=entry.rel_path,
                purl=f"pkg:pypi/{dep.name}@{dep.pinned}",
                origin="pip",
            )
            for dep in deps
            if dep.pinned is not None
        ]
