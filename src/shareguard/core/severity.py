"""Severities, their order, and where a severity came from."""

from __future__ import annotations

from enum import StrEnum

from shareguard.core.errors import ConfigError


class Severity(StrEnum):
    CRITICAL = "critical"
    HIGH = "high"
    MEDIUM = "medium"
    LOW = "low"
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
    Severity.LOW: 1,
    Severity.MEDIUM: 2,
    Severity.HIGH: 3,
    Severity.CRITICAL: 4,
}

_SECURITY_SEVERITY = {
    Severity.INFO: "0.0",
    Severity.LOW: "3.0",
    Severity.MEDIUM: "5.5",
    Severity.HIGH: "8.0",
    Severity.CRITICAL: "9.5",
}

_ALIASES = {
    "moderate": Severity.MEDIUM,
    "important": Severity.HIGH,
    "negligible": Severity.LOW,
    "unimportant": Severity.LOW,
    "none": Severity.INFO,
    "informational": Severity.INFO,
    "unknown": Severity.MEDIUM,
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
    """`--severity HIGH,CRITICAL` → the listed severities (Trivy's convention);
    a single value means that severity and above (`--severity high` → high, critical)."""
    if not text:
        return list(Severity)
    parts = [Severity.parse(part) for part in text.split(",") if part.strip()]
    if len(parts) == 1:
        return [s for s in Severity if s.at_least(parts[0])]
    return parts


def sorted_desc(values: list[Severity]) -> list[Severity]:
    return sorted(values, key=lambda s: -s.rank)
