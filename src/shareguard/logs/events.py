"""The log event model: a decoded JSON object, the kind of log it came from, and where it came from."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Any


class LogKind(StrEnum):
    """The log sources shareguard ingests; each maps to a Sigma `logsource` (see fieldmap.yaml)."""

    CLOUDTRAIL = "cloudtrail"
    GCP_AUDIT = "gcp_audit"
    K8S_AUDIT = "k8s_audit"


@dataclass(frozen=True, slots=True)
class LogEvent:
    """One audit event. `data` is the decoded JSON object, never copied or changed after decoding."""

    kind: LogKind
    data: dict[str, Any]
    origin: str
    """The file (or URL) it was read from."""
    position: str
    """Where in it: `line 12` (JSON lines) or `record 5` (a document's array)."""


@dataclass(frozen=True, slots=True)
class LogIssue:
    """A part of the input that could not be read (bad line, truncated gzip, unknown event, budget)."""

    origin: str
    position: str | None
    message: str
    fatal: bool = False
    """True when the rest of that input could not be read either (so its verdict is incomplete)."""

    def one_line(self) -> str:
        where = f"{self.origin}:{self.position}" if self.position else self.origin
        return f"{where}: {self.message}"
