"""The FileAnalyzers of this capability: model files, ML code, dependency pins."""

from __future__ import annotations

import posixpath
import struct
import tarfile
import zipfile
from collections.abc import Iterable

from shareguard.core.analyzer import Output
from shareguard.core.context import ScanContext
from shareguard.core.entry import FileEntry
from shareguard.core.errors import BudgetExceeded
from shareguard.models.formats.blob import Budget, CorruptData
from shareguard.models.formats.env import Env
from shareguard.models.formats.sniff import MODEL_EXTENSIONS, Kind, sniff
from shareguard.models.inspect import inspect_stream
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

    def claims(self, entry: FileEntry) -> bool:
        if entry.suffix in MODEL_EXTENSIONS:
            return True
        if entry.size == 0:
            return False
        return sniff(entry.head(4096), entry.rel_path) is not Kind.UNKNOWN

    def analyze(self, entry: FileEntry, ctx: ScanContext) -> Iterable[Output]:
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
                sink.add("MODEL-010", where, evidence=exc.message, key="budget")
            except CorruptData as exc:
                sink.add("MODEL-003", where, title=f"Corrupt data: {exc}", evidence=str(exc), key="corrupt")
            except _PARSER_ERRORS as exc:
                # Defence in depth: a library parser (zipfile, tarfile, h5py) failing on hostile
                # bytes must leave a finding, never a crash or a silently "clean" file.
                msg = f"{type(exc).__name__}: {exc}"[:300]
                sink.add(
                    "MODEL-003", where, title=f"File could not be fully analysed ({msg})", evidence=msg, key="parser"
                )
        if sink.dropped:
            ctx.warn(entry.rel_path, f"{sink.dropped} further findings not reported (per-file cap)", self.name)
        return sink.findings


MAX_CODE_BYTES = 8 * 1024 * 1024
ENV_FILES = (".env", ".envrc", ".bashrc", ".profile")


class MLCodeAnalyzer:
    """Python sources, notebooks and env/shell files: unsafe model loading in code."""

    name = "models.code"
    version = VERSION
    controls: tuple[str, ...] = CONTROLS

    def claims(self, entry: FileEntry) -> bool:
        n = entry.name.lower()
        return entry.suffix in (".py", ".ipynb", ".sh") or n in ENV_FILES or n.endswith(".env")

    def analyze(self, entry: FileEntry, ctx: ScanContext) -> Iterable[Output]:
        from shareguard.models.code.ast_checks import CodeHit, check_env_text, check_source
        from shareguard.models.code.notebook import code_cells

        text = entry.read_text(min(MAX_CODE_BYTES, ctx.settings.budgets.max_config_bytes))
        sink = FindingSink(self.name)
        where = Where(entry.rel_path)
        if entry.suffix == ".py":
            try:
                hits: list[tuple[str | None, CodeHit]] = [(None, h) for h in check_source(text, entry.rel_path)]
            except (SyntaxError, ValueError, RecursionError, MemoryError) as exc:
                ctx.warn(entry.rel_path, f"Python source does not parse ({type(exc).__name__}); not checked", self.name)
                return []
        elif entry.suffix == ".ipynb":
            hits = []
            try:
                cells = code_cells(text)
            except (ValueError, RecursionError) as exc:
                ctx.warn(entry.rel_path, f"not a readable notebook: {exc}", self.name)
                return []
            for cell in cells:
                try:
                    hits.extend((f"cells[{cell.index}]", h) for h in check_source(cell.source, entry.rel_path))
                except (SyntaxError, ValueError, RecursionError, MemoryError):
                    continue  # a cell in another kernel language or with magics we do not model
        else:
            hits = [(None, h) for h in check_env_text(text)]
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
        # the field path of a notebook finding goes into the location
        return [
            f.model_copy(update={"location": f.location.model_copy(update={"field_path": f.properties.get("cell")})})
            if f.properties.get("cell")
            else f
            for f in sink.findings
        ]


class DependencyAnalyzer:
    """Dependency files: a `Package` fact (PyPI, origin `pip`) for every exact pin. The vulnerability
    matcher (`vuln.osv`) matches them as it matches an image's installed packages: one path, one finding
    per (package, vulnerability). Rule MLCODE-011 (a built-in table of framework CVEs) is retired."""

    name = "models.deps"
    version = "2"
    controls: tuple[str, ...] = ()
    """No finding of its own: the duties are marked by the vulnerability matcher that reads its facts."""

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
            ctx.warn(entry.rel_path, f"dependency file not parsed: {type(exc).__name__}: {exc}", self.name)
            return []
        return [
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
