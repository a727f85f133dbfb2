"""Per-scan context: options, the fact store, and what the scan noticed along the way."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from shareguard.core.coverage import Coverage
from shareguard.core.facts import FactStore
from shareguard.core.options import OptionSet
from shareguard.core.settings import Settings


@dataclass(frozen=True)
class ScanIssue:
    """A file or part that could not be scanned (parse error, budget exceeded, hostile entry)."""

    path: str
    message: str
    analyzer: str | None = None
    kind: str = "error"
    """`error` (could not be scanned: exit non-zero) or `warning` (scanned with a caveat)."""


@dataclass
class ScanContext:
    settings: Settings
    root: Path | None = None
    facts: FactStore = field(default_factory=FactStore)
    options: OptionSet = field(default_factory=OptionSet)
    """Typed options per capability: `ctx.options.get(PostureOptions)`, `ctx.options.get(VulnOptions)`."""
    command: str = ""
    """The command that runs the scan (`audit`, `image`, `rootfs`, `config`, `models`)."""
    issues: list[ScanIssue] = field(default_factory=list)
    coverage: Coverage = field(default_factory=Coverage)
    """What was evaluated, per duty and per analyzer; verdicts are read from it."""
    metadata: dict[str, Any] = field(default_factory=dict)
    """Shown in reports (e.g. vulnerability database date)."""

    def error(self, path: str, message: str, analyzer: str | None = None) -> None:
        """Input that could not be analysed: an issue, and the analyzer's duties become incomplete."""
        self.issues.append(ScanIssue(path, message, analyzer, "error"))
        self.coverage.could_not_analyse(analyzer, path, message)

    def warn(self, path: str, message: str, analyzer: str | None = None) -> None:
        self.issues.append(ScanIssue(path, message, analyzer, "warning"))
