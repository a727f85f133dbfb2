"""Where the vulnerability database lives, how old it is, and the bundled-snapshot fallback."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from shareguard.core.errors import DatabaseError
from shareguard.core.settings import Settings
from shareguard.vuln.snapshot import BUNDLED_META_KEY, import_snapshot, install_snapshot, snapshot_info
from shareguard.vuln.store import SourceRow, VulnStore

STALE_AFTER_DAYS = 7
"""Older than this: a warning (never a failure)."""


def default_db_path(settings: Settings) -> Path:
    return settings.cache_dir / "db" / "vuln.sqlite"


@dataclass(frozen=True)
class DbInfo:
    path: str
    sources: tuple[SourceRow, ...]
    updated: datetime | None
    """The most recent import (for the bundled snapshot: the date of its data)."""
    age_days: float | None
    stale: bool
    snapshot_only: bool

    def metadata(self) -> dict[str, Any]:
        """What a report shows as `vulnerability_db`."""
        return {
            "path": self.path,
            "sources": sorted({s.source for s in self.sources}),
            "ecosystems": sorted({s.ecosystem for s in self.sources}),
            "updated": self.updated.isoformat() if self.updated else None,
            "age_days": round(self.age_days, 1) if self.age_days is not None else None,
            "stale": self.stale,
            "bundled_snapshot_only": self.snapshot_only,
        }

    def stale_message(self) -> str:
        age = f"{self.age_days:.0f} days old" if self.age_days is not None else "of unknown age"
        what = "the bundled snapshot" if self.snapshot_only else "the vulnerability database"
        return (
            f"{what} is {age} (updated {self.updated:%Y-%m-%d}); run `shareguard db update`"
            if self.updated
            else (f"{what} is {age}; run `shareguard db update`")
        )


def describe(store: VulnStore, now: datetime | None = None) -> DbInfo:
    sources = tuple(store.sources())
    now = now or datetime.now(UTC)
    updated = max((s.imported_at for s in sources), default=None)
    if updated is not None and updated.tzinfo is None:
        updated = updated.replace(tzinfo=UTC)
    age = (now - updated).total_seconds() / 86400 if updated else None
    snapshot_only = bool(sources) and all(s.source.startswith("bundled snapshot") for s in sources)
    return DbInfo(str(store.path), sources, updated, age, age is None or age > STALE_AFTER_DAYS, snapshot_only)


def open_for_scan(settings: Settings) -> VulnStore:
    """The user's database; on first use (none yet) it is created from the bundled snapshot, and a
    database seeded from an older bundled snapshot gets this one's advisories (see `refresh_snapshot`)."""
    path = default_db_path(settings)
    if not path.is_file():
        try:
            install_snapshot(path)
        except OSError as exc:  # a read-only or full cache directory
            raise DatabaseError(
                f"cannot create the vulnerability database: {exc.strerror or exc} (set SHAREGUARD_CACHE_DIR)",
                path=str(path),
            ) from None
        return VulnStore(path)
    store = VulnStore(path)
    refresh_snapshot(store)
    return store


def refresh_snapshot(store: VulnStore) -> bool:
    """Import the bundled snapshot into a database seeded from an older one (e.g. before shareguard
    shipped its own framework advisories), keeping every advisory stored with a newer `modified` date
    (a `db update` is never undone). A database never seeded from a bundled snapshot is left alone.
    Returns whether it imported; a database that cannot be written is used as it is."""
    info = snapshot_info()
    if store.meta(BUNDLED_META_KEY) == info.label:
        return False
    if not any(s.source.startswith("bundled snapshot") for s in store.sources()):
        return False
    try:
        import_snapshot(store, info, keep_newer=True)
    except DatabaseError:  # read-only or locked: scan with what is there
        return False
    return True
