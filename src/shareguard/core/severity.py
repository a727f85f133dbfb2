"""Severities, their order, and where a severity came from."""

from __future__ import annotations

from enum import StrEnum

from shareguard.core.errors import ConfigError


class Severity(StrEnum):
    CRITICAL = "critical"
    HIGH = "high"
    MEDIUM = "medium"
    LOW = "low"
    UNKNOWN = "unknown"
    """No vendor rating and no CVSS score (Trivy's UNKNOWN): never guessed as medium."""
    INFO = "info"

    @property
    def rank(self) -> int:
        return _RANK[self]

    @classmethod
    def parse(cls, value: str) -> Severity:
        try:
            return cls(value.strip().lower())
        except ValueError:
            # Vendors say "moderate", "important", "negligible"… map the common ones.
            alias = _ALIASES.get(value.strip().lower())
            if alias is None:
                raise ConfigError(
                    f"unknown severity {value!r} (use one of: {', '.join(s.value for s in cls)})"
                ) from None
            return alias

    def at_least(self, other: Severity) -> bool:
        return self.rank >= other.rank

    @property
    def security_severity(self) -> str:
        """GitHub code-scanning's numeric `security-severity` for SARIF rules."""
        return _SECURITY_SEVERITY[self]


_RANK = {
    Severity.INFO: 0,
    Severity.UNKNOWN: 1,
    Severity.LOW: 2,
    Severity.MEDIUM: 3,
    Severity.HIGH: 4,
    Severity.CRITICAL: 5,
}

_SECURITY_SEVERITY = {
    Severity.INFO: "0.0",
    Severity.LOW: "3.0",
    Severity.MEDIUM: "5.5",
    Severity.HIGH: "8.0",
    Severity.CRITICAL: "9.5",
    Severity.UNKNOWN: "",
}

_ALIASES = {
    "moderate": Severity.MEDIUM,
    "important": Severity.HIGH,
    "negligible": Severity.LOW,
    "unimportant": Severity.LOW,
    "none": Severity.INFO,
    "informational": Severity.INFO,
    "unrated": Severity.UNKNOWN,
}


def from_cvss_score(score: float) -> Severity:
    """CVSS v3/v4 qualitative rating scale."""
    if score >= 9.0:
        return Severity.CRITICAL
    if score >= 7.0:
        return Severity.HIGH
    if score >= 4.0:
        return Severity.MEDIUM
    if score > 0.0:
        return Severity.LOW
    return Severity.INFO


def parse_severity_list(text: str | None) -> list[Severity]:
    """`--severity HIGH,CRITICAL` → exactly the listed severities (Trivy's convention; one value is a
    set of one, not a threshold: that is `--min-severity`). Empty: all."""
    if not text:
        return list(Severity)
    parts = [Severity.parse(part) for part in text.split(",") if part.strip()]
    return parts or list(Severity)


def at_or_above(minimum: str | None) -> list[Severity]:
    """`--min-severity high` → high and critical; `unknown` ranks above info, below low."""
    if not minimum:
        return list(Severity)
    floor = Severity.parse(minimum)
    return [s for s in Severity if s.at_least(floor)]


def sorted_desc(values: list[Severity]) -> list[Severity]:
    return sorted(values, key=lambda s: -s.rank)
