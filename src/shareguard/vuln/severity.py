"""Which severity an advisory has, and where it came from.

Order (the issue's rule): the vendor's / ecosystem's own rating first (Debian urgency, Ubuntu
priority, the database's severity such as GitHub's), then CVSS computed from the vector
(v3.x, then v4.0, then v2), else `unknown` with source `default` (as Trivy: never guessed as medium).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from shareguard.core.finding import SeveritySource
from shareguard.core.severity import Severity, from_cvss_score

_VENDOR_WORDS = {
    "critical": Severity.CRITICAL,
    "high": Severity.HIGH,
    "important": Severity.HIGH,
    "moderate": Severity.MEDIUM,
    "medium": Severity.MEDIUM,
    "low": Severity.LOW,
    "negligible": Severity.LOW,
    "unimportant": Severity.LOW,
}
"""Ratings that carry information; `not yet assigned`, `unknown`, `end-of-life` fall through to CVSS."""


@dataclass(frozen=True)
class Rating:
    severity: Severity
    source: SeveritySource
    score: float | None = None
    vector: str | None = None
    vendor: str | None = None
    """The vendor's own word (e.g. Debian's `unimportant`), when that is the source."""


def vendor_rating(word: object) -> Severity | None:
    if not isinstance(word, str):
        return None
    return _VENDOR_WORDS.get(word.strip().rstrip("*").strip().lower())


def cvss_rating(kind: str, vector: str) -> Rating | None:
    """Base score of a CVSS vector (FIRST's formulas via the `cvss` package); None if malformed."""
    vector = vector.strip()
    try:  # imported here so that a missing `cvss` install degrades scoring, not every command
        from cvss import CVSS2, CVSS3, CVSS4
        from cvss.exceptions import CVSSError
    except ImportError:  # pragma: no cover - `cvss` is a declared dependency
        return None
    try:
        if kind == "CVSS_V3" or vector.startswith("CVSS:3"):
            score = float(CVSS3(vector).scores()[0])
            return Rating(from_cvss_score(score), SeveritySource.CVSS_V3, score, vector)
        if kind == "CVSS_V4" or vector.startswith("CVSS:4"):
            score = float(CVSS4(vector).base_score)
            return Rating(from_cvss_score(score), SeveritySource.CVSS_V4, score, vector)
        if kind == "CVSS_V2":
            score = float(CVSS2(vector).scores()[0])
            return Rating(from_cvss_score(score), SeveritySource.CVSS_V2, score, vector)
    except (CVSSError, ValueError, KeyError, IndexError, TypeError, ArithmeticError):
        return None
    return None


def _cvss_entries(items: object) -> list[tuple[str, str]]:
    out: list[tuple[str, str]] = []
    if isinstance(items, list):
        for it in items:
            if isinstance(it, dict) and isinstance(it.get("type"), str) and isinstance(it.get("score"), str):
                out.append((it["type"], it["score"]))
    return out


def advisory_rating(doc: dict[str, Any], affected_specific: list[dict[str, Any]] | None = None) -> Rating:
    """Rate one advisory; `affected_specific` are the ecosystem/database-specific objects of the
    affected entry being matched (Debian's `urgency` lives there)."""
    for obj in affected_specific or []:
        for field in ("urgency", "severity"):
            sev = vendor_rating(obj.get(field))
            if sev is not None:
                return Rating(sev, SeveritySource.VENDOR, vendor=str(obj.get(field)))
    entries = _cvss_entries(doc.get("severity"))
    for kind, score in entries:
        if kind == "Ubuntu":
            sev = vendor_rating(score)
            if sev is not None:
                return Rating(sev, SeveritySource.VENDOR, vendor=score)
    for container in ("database_specific", "ecosystem_specific"):
        specific = doc.get(container)
        if isinstance(specific, dict):
            sev = vendor_rating(specific.get("severity"))
            if sev is not None:
                return Rating(sev, SeveritySource.VENDOR, vendor=str(specific.get("severity")))
    for wanted in ("CVSS_V3", "CVSS_V4", "CVSS_V2"):
        for kind, score in entries:
            if kind == wanted:
                rating = cvss_rating(kind, score)
                if rating is not None:
                    return rating
    return Rating(Severity.UNKNOWN, SeveritySource.DEFAULT)
