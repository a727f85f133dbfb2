"""Run the model-file scanner on bytes or paths in tests."""

from __future__ import annotations

from pathlib import Path

from shareguard.catalog import load_catalog
from shareguard.core.finding import Finding
from shareguard.core.result import ScanResult
from shareguard.core.settings import Budgets, Settings
from shareguard.report.rollup import rollup
from shareguard.scan import run_path_scan

DUTIES = ("DLC-C-03", "DLVM-C-03", "DATAFLOW-C-08")
"""The duties model files and ML code fall under ("secure your own applications and model files")."""


def scan_result(path: Path, budgets: Budgets | None = None, capabilities: frozenset[str] | None = None) -> ScanResult:
    settings = Settings(cache_dir=path.parent / ".cache", budgets=budgets or Budgets())
    caps = frozenset({"models"}) if capabilities is None else capabilities
    return run_path_scan(path, command="models", capabilities=caps, settings=settings)


def model_issues(res: ScanResult) -> list[str]:
    """`path: message` of every issue the models analyzers reported."""
    return [f"{i.path}: {i.message}" for i in res.issues if i.analyzer and i.analyzer.startswith("models")]


def scan(path: Path, budgets: Budgets | None = None) -> tuple[list[Finding], list[str]]:
    res = scan_result(path, budgets)
    return list(res.findings), model_issues(res)


def scan_bytes(tmp: Path, name: str, data: bytes, budgets: Budgets | None = None) -> list[Finding]:
    """Findings of one file that must have been analysed whole (no issue)."""
    findings, issues = scan_bytes_issues(tmp, name, data, budgets)
    assert not issues, issues
    return findings


def scan_bytes_issues(
    tmp: Path, name: str, data: bytes, budgets: Budgets | None = None
) -> tuple[list[Finding], list[str]]:
    p = tmp / name
    p.write_bytes(data)
    return scan(p, budgets)


def not_analysed(tmp: Path, name: str, data: bytes, budgets: Budgets | None = None) -> str:
    """One file that could not be analysed: its duties are incomplete, with no failing finding; the issues."""
    p = tmp / name
    p.write_bytes(data)
    res = scan_result(p, budgets)
    issues = model_issues(res)
    assert issues, "expected an issue saying what was not analysed"
    assert all(i.kind == "error" for i in res.issues if i.analyzer and i.analyzer.startswith("models"))
    assert duty_statuses(res) == dict.fromkeys(DUTIES, "incomplete"), (duty_statuses(res), res.findings)
    return "\n".join(issues)


def duty_statuses(res: ScanResult, duties: tuple[str, ...] = DUTIES) -> dict[str, str]:
    """The roll-up verdict of each duty (`fail`, `accepted`, `incomplete`, `pass`, `not_assessed`)."""
    rows = {d.control.id: d.status.value for d in rollup(res, load_catalog()).duties()}
    return {d: rows[d] for d in duties}


def callables(findings: list[Finding], rule: str = "MODEL-001") -> set[str]:
    return {f.evidence or "" for f in findings if f.rule_id == rule}


def rules(findings: list[Finding]) -> set[str]:
    return {f.rule_id for f in findings}
