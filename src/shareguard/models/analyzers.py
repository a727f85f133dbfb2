"""The FileAnalyzers of this capability: model files, ML code, dependency pins."""

from __future__ import annotations

import posixpath
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
VERSION = "1"


class ModelFileAnalyzer:
    """Every file whose bytes are a model format (or whose name says it should be one)."""

    name = "models.files"
    version = VERSION
    controls = CONTROLS

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
        if sink.dropped:
            ctx.warn(entry.rel_path, f"{sink.dropped} further findings not reported (per-file cap)", self.name)
        return sink.findings
