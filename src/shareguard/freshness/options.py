"""The freshness capability's typed scan options."""

from __future__ import annotations

from dataclasses import dataclass

DEFAULT_LONG_RUNNING_DAYS = 30


@dataclass(frozen=True)
class FreshnessOptions:
    long_running_days: int | None = None
    """Running jobs, endpoints and VMs older than this get an "update the job" finding (None: 30 days;
    `--long-running-days`, `long_running_days` in .shareguard.yaml)."""

    @property
    def limit_days(self) -> int:
        return self.long_running_days or DEFAULT_LONG_RUNNING_DAYS
