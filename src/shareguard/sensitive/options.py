"""Typed options of the sensitive-data capability (`shareguard data` sets them; `audit`/`image` use the defaults)."""

from __future__ import annotations

from dataclasses import dataclass

from shareguard.sensitive.catalog import Confidence

DEFAULT_MAX_BYTES = 64 * 1024 * 1024


@dataclass(frozen=True)
class SensitiveOptions:
    all_files: bool = False
    """Scan every non-binary file (`shareguard data`); otherwise data files, code and secrets-prone files only,
    leaving configuration formats to the configuration checks (no secret is reported twice)."""
    min_confidence: Confidence = Confidence.POSSIBLE
    max_bytes_per_object: int = DEFAULT_MAX_BYTES
    sample_percent: int = 100
    """Macie-like sampling: this share of the objects is scanned (chosen by a hash of the path: stable)."""
    max_findings_per_detector: int = 20
    """Findings per detector per object (0: all); the per-object summary counts every occurrence."""
