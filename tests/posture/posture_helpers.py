"""Run one posture analyzer over a file the way the engine does (claim → analyze), for tests."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from shareguard.core.analyzer import FileAnalyzer
from shareguard.core.context import ScanContext
from shareguard.core.entry import FileEntry
from shareguard.core.finding import Finding
from shareguard.core.options import OptionSet
from shareguard.core.registry import load_registries
from shareguard.core.settings import Budgets, Settings

FIXTURES = Path(__file__).parent / "fixtures"


def analyzer(name: str) -> FileAnalyzer:
    regs = load_registries(("shareguard.posture.plugin",))
    return regs.of(FileAnalyzer).get(name)  # type: ignore[type-abstract]


def run_file(
    name: str, path: Path, *, options: object | None = None, budgets: Budgets | None = None
) -> tuple[list[Finding], ScanContext]:
    an = analyzer(name)
    typed = OptionSet((options,)) if options is not None else OptionSet()
    ctx = ScanContext(settings=Settings(budgets=budgets or Budgets()), root=path.parent, options=typed)
    entry = FileEntry(rel_path=path.name, size=path.stat().st_size, abs_path=path)
    assert an.claims(entry), f"{name} does not claim {path}"
    findings = [o for o in an.analyze(entry, ctx) if isinstance(o, Finding)]
    return findings, ctx


def run_text(name: str, tmp_path: Path, filename: str, text: str, **kw: Any) -> tuple[list[Finding], ScanContext]:
    p = tmp_path / filename
    p.parent.mkdir(parents=True, exist_ok=True)
    p.write_text(text, encoding="utf-8")
    return run_file(name, p, **kw)


def ids(findings: list[Finding]) -> set[str]:
    return {f.rule_id for f in findings}
