"""Shared helpers of the cloud posture tests: scan a fixture and look at its findings."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from shareguard.core.options import OptionSet
from shareguard.core.result import ScanResult
from shareguard.posture.options import PostureOptions
from shareguard.scan import run_path_scan

FIXTURES = Path(__file__).parent / "fixtures"


def scan(path: Path, **options: Any) -> ScanResult:
    """A `config` scan; keyword arguments are `PostureOptions` fields."""
    typed = OptionSet((PostureOptions(**options),)) if options else None
    return run_path_scan(path, command="config", capabilities=frozenset({"posture"}), options=typed)


def rule_lines(result: ScanResult) -> dict[str, list[int | None]]:
    out: dict[str, list[int | None]] = {}
    for f in result.findings:
        out.setdefault(f.rule_id, []).append(f.location.line)
    return out
