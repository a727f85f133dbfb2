"""Run the model-file scanner on bytes or paths in tests."""

from __future__ import annotations

from pathlib import Path

from shareguard.core.finding import Finding
from shareguard.core.settings import Budgets, Settings
from shareguard.scan import run_path_scan


def scan(path: Path, budgets: Budgets | None = None) -> tuple[list[Finding], list[str]]:
    settings = Settings(cache_dir=path.parent / ".cache", budgets=budgets or Budgets())
    res = run_path_scan(path, command="models", capabilities=frozenset({"models"}), settings=settings)
    return list(res.findings), [
        f"{i.path}: {i.message}" for i in res.issues if i.analyzer and i.analyzer.startswith("models")
    ]


def scan_bytes(tmp: Path, name: str, data: bytes, budgets: Budgets | None = None) -> list[Finding]:
    p = tmp / name
    p.write_bytes(data)
    findings, issues = scan(p, budgets)
    assert not issues, issues
    return findings


def callables(findings: list[Finding], rule: str = "MODEL-001") -> set[str]:
    return {f.evidence or "" for f in findings if f.rule_id == rule}


def rules(findings: list[Finding]) -> set[str]:
    return {f.rule_id for f in findings}
