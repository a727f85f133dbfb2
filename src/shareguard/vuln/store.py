"""The local vulnerability database: one SQLite file.

Tables: `sources` (what was imported, from where, when, how many advisories, which ecosystem),
`advisories` (one row per OSV id, with its rating computed at import) and `affected` (one row per
affected package, indexed by ecosystem + normalised name so a scan fetches candidates with one
indexed query per package name).
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from shareguard.core.errors import DatabaseError
from shareguard.core.finding import SeveritySource
from shareguard.core.severity import Severity
from shareguard.vuln.osv import Advisory, Range
from shareguard.vuln.severity import Rating

SCHEMA_VERSION = "1"

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS sources (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  source TEXT NOT NULL,
  ecosystem TEXT NOT NULL,
  imported_at TEXT NOT NULL,
  advisory_count INTEGER NOT NULL,
  newest_modified TEXT NOT NULL DEFAULT ''
);
CREATE TABLE IF NOT EXISTS advisories (
  id TEXT PRIMARY KEY,
  source_id INTEGER NOT NULL,
  modified TEXT NOT NULL,
  published TEXT NOT NULL,
  summary TEXT NOT NULL,
  aliases TEXT NOT NULL,
  refs TEXT NOT NULL,
  severity TEXT NOT NULL,
  severity_source TEXT NOT NULL,
  score REAL,
  vector TEXT,
  vendor TEXT
);
CREATE TABLE IF NOT EXISTS affected (
  advisory_id TEXT NOT NULL,
  ecosystem TEXT NOT NULL,
  release TEXT NOT NULL,
  name TEXT NOT NULL,
  name_norm TEXT NOT NULL,
  purl TEXT,
  ranges TEXT NOT NULL,
  versions TEXT NOT NULL,
  vendor_severity TEXT
);
CREATE INDEX IF NOT EXISTS affected_pkg ON affected (ecosystem, name_norm);
CREATE INDEX IF NOT EXISTS affected_adv ON affected (advisory_id);
"""


@dataclass(frozen=True)
class SourceRow:
    source: str
    ecosystem: str
    imported_at: datetime
    advisory_count: int
    newest_modified: str


@dataclass(frozen=True)
class AdvisoryRow:
    id: str
    summary: str
    aliases: tuple[str, ...]
    references: tuple[str, ...]
    rating: Rating
    modified: str


@dataclass(frozen=True)
class AffectedRow:
    advisory_id: str
    ecosystem: str
    release: str
    name: str
    ranges: tuple[Range, ...]
    versions: tuple[str, ...]
    vendor_severity: str | None


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


class VulnStore:
    """A connection to one database file. Use as a context manager."""

    def __init__(self, path: Path, *, create: bool = False) -> None:
        self.path = path
        if not create and not path.is_file():
            raise DatabaseError("vulnerability database not found (run `shareguard db update`)", path=str(path))
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            self._db = sqlite3.connect(str(path))
            if create:
                self._db.executescript(_SCHEMA)
                self._db.execute(
                    "INSERT OR IGNORE INTO meta (key, value) VALUES ('schema_version', ?)", (SCHEMA_VERSION,)
                )
                self._db.commit()
            version = self._db.execute("SELECT value FROM meta WHERE key='schema_version'").fetchone()
        except sqlite3.DatabaseError as exc:
            raise DatabaseError(f"not a shareguard vulnerability database: {exc}", path=str(path)) from None
        except OSError as exc:
            raise DatabaseError(
                f"cannot open the vulnerability database: {exc.strerror or exc}", path=str(path)
            ) from None
        if version is None or version[0] != SCHEMA_VERSION:
            raise DatabaseError(
                "vulnerability database has an unknown schema; run `shareguard db update`", path=str(path)
            )

    def close(self) -> None:
        self._db.close()

    def __enter__(self) -> VulnStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        try:
            with self._db:
                yield self._db
        except sqlite3.DatabaseError as exc:
            raise DatabaseError(f"cannot write the vulnerability database: {exc}", path=str(self.path)) from None

    # -- writing ---------------------------------------------------------------------------

    # Writers take the connection of an open `transaction()`: one import is one transaction, so a
    # failed update leaves the previous database as it was.

    def add_source(self, db: sqlite3.Connection, source: str, ecosystem: str, imported_at: str | None = None) -> int:
        cur = db.execute(
            "INSERT INTO sources (source, ecosystem, imported_at, advisory_count) VALUES (?, ?, ?, 0)",
            (source, ecosystem, imported_at or _now()),
        )
        return int(cur.lastrowid or 0)

    def finish_source(self, db: sqlite3.Connection, source_id: int, count: int, newest_modified: str) -> None:
        db.execute(
            "UPDATE sources SET advisory_count=?, newest_modified=? WHERE id=?", (count, newest_modified, source_id)
        )

    def meta(self, key: str) -> str | None:
        row = self._db.execute("SELECT value FROM meta WHERE key=?", (key,)).fetchone()
        return None if row is None else str(row[0])

    def set_meta(self, db: sqlite3.Connection, key: str, value: str) -> None:
        db.execute("INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)", (key, value))

    def stored_modified(self, db: sqlite3.Connection, advisory_id: str) -> str:
        """The `modified` date of the stored copy of an advisory ("" when none is stored)."""
        row = db.execute("SELECT modified FROM advisories WHERE id=?", (advisory_id,)).fetchone()
        return str(row[0]) if row is not None else ""

    def put(self, db: sqlite3.Connection, advisory: Advisory, source_id: int) -> None:
        """Insert or replace one advisory (an update supersedes the earlier copy of the same id)."""
        db.execute("DELETE FROM affected WHERE advisory_id=?", (advisory.id,))
        if advisory.withdrawn:
            db.execute("DELETE FROM advisories WHERE id=?", (advisory.id,))
            return
        r = advisory.rating
        db.execute(
            "INSERT OR REPLACE INTO advisories VALUES (?,?,?,?,?,?,?,?,?,?,?,?)",
            (
                advisory.id,
                source_id,
                advisory.modified,
                advisory.published,
                advisory.summary,
                json.dumps(advisory.aliases),
                json.dumps(advisory.references),
                r.severity.value,
                r.source.value,
                r.score,
                r.vector,
                r.vendor,
            ),
        )
        db.executemany(
            "INSERT INTO affected VALUES (?,?,?,?,?,?,?,?,?)",
            [
                (
                    advisory.id,
                    a.ecosystem,
                    a.release,
                    a.name,
                    a.name_norm,
                    a.purl,
                    json.dumps([[rg.type, [list(e) for e in rg.events]] for rg in a.ranges]),
                    json.dumps(a.versions),
                    next((str(s.get("urgency") or s.get("severity")) for s in a.specific if s), None),
                )
                for a in advisory.affected
            ],
        )

    # -- reading ---------------------------------------------------------------------------

    def sources(self) -> list[SourceRow]:
        rows = self._db.execute(
            "SELECT source, ecosystem, imported_at, advisory_count, newest_modified FROM sources ORDER BY id"
        ).fetchall()
        return [SourceRow(r[0], r[1], datetime.fromisoformat(r[2]), int(r[3]), r[4]) for r in rows]

    def counts(self) -> tuple[int, int]:
        adv = self._db.execute("SELECT COUNT(*) FROM advisories").fetchone()[0]
        aff = self._db.execute("SELECT COUNT(*) FROM affected").fetchone()[0]
        return int(adv), int(aff)

    def ecosystem_counts(self) -> dict[str, int]:
        rows = self._db.execute(
            "SELECT ecosystem, COUNT(DISTINCT advisory_id) FROM affected GROUP BY ecosystem ORDER BY ecosystem"
        )
        return {r[0]: int(r[1]) for r in rows}

    def releases(self) -> dict[str, set[str]]:
        """Ecosystem → the releases its advisories are scoped to (`""` for advisories of every release):
        which packages this database can vouch for at all."""
        out: dict[str, set[str]] = {}
        for eco, release in self._db.execute("SELECT DISTINCT ecosystem, release FROM affected"):
            out.setdefault(eco, set()).add(release or "")
        return out

    def affected_for(self, ecosystem: str, name_norm: str) -> list[AffectedRow]:
        rows = self._db.execute(
            "SELECT advisory_id, ecosystem, release, name, ranges, versions, vendor_severity "
            "FROM affected WHERE ecosystem=? AND name_norm=?",
            (ecosystem, name_norm),
        ).fetchall()
        out: list[AffectedRow] = []
        for r in rows:
            ranges = tuple(Range(t, tuple((k, v) for k, v in evs)) for t, evs in json.loads(r[4]))
            out.append(AffectedRow(r[0], r[1], r[2], r[3], ranges, tuple(json.loads(r[5])), r[6]))
        return out

    def advisory(self, advisory_id: str) -> AdvisoryRow | None:
        r = self._db.execute(
            "SELECT id, summary, aliases, refs, severity, severity_source, score, vector, vendor, modified "
            "FROM advisories WHERE id=?",
            (advisory_id,),
        ).fetchone()
        if r is None:
            return None
        rating = Rating(Severity(r[4]), SeveritySource(r[5]), r[6], r[7], r[8])
        return AdvisoryRow(r[0], r[1], tuple(json.loads(r[2])), tuple(json.loads(r[3])), rating, r[9])
