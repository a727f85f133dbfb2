"""The scan's "now": a typed scan option, so every age and date judgement of one scan uses one instant.

Checks ask `ctx.options.get(ScanClock).now()` instead of `datetime.now()`: a test or the Python API fixes the
instant (`ScanClock(at=...)`), and `SHAREGUARD_NOW` (an ISO 8601 instant) fixes it for a whole run of the CLI, so
the same input gives the same verdicts on any day (reproducible reports, tests of the command line).
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from datetime import UTC, date, datetime

from shareguard.core.errors import ConfigError

ENV = "SHAREGUARD_NOW"


def _from_env() -> datetime | None:
    text = os.environ.get(ENV, "").strip()
    if not text:
        return None
    try:
        return datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise ConfigError(f"{ENV}={text!r} is not an ISO 8601 date or instant") from None


@dataclass(frozen=True)
class ScanClock:
    at: datetime | None = field(default_factory=_from_env)
    """The instant the scan judges ages and dates against (None: the real current time, in UTC)."""

    def now(self) -> datetime:
        if self.at is None:
            return datetime.now(UTC)
        return self.at if self.at.tzinfo else self.at.replace(tzinfo=UTC)

    def today(self) -> date:
        return self.now().date()
