"""The scan's "now": a typed scan option, so every age and date judgement of one scan uses one instant.

Checks ask `ctx.options.get(ScanClock).now()` instead of `datetime.now()`: a test (or `--now`) fixes the
instant and the same input gives the same verdicts on any day.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime


@dataclass(frozen=True)
class ScanClock:
    at: datetime | None = None
    """The instant the scan judges ages and dates against (None: the real current time, in UTC)."""

    def now(self) -> datetime:
        if self.at is None:
            return datetime.now(UTC)
        return self.at if self.at.tzinfo else self.at.replace(tzinfo=UTC)

    def today(self) -> date:
        return self.now().date()
