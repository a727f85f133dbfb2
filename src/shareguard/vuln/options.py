"""The vulnerability matcher's typed scan options."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class VulnOptions:
    ignore_unfixed: bool = False
    """`--ignore-unfixed`: leave out vulnerabilities no release fixes yet."""
    vex: Path | None = None
    """`--vex FILE`: an OpenVEX document whose `not_affected` statements waive findings."""
