"""Import OSV advisories into the store: an `all.zip` as OSV publishes it, a directory of
`.json`/`.yaml` files (searched recursively, e.g. the PyPA advisory database), or one file.

Streaming: one archive member or file at a time is read (with a size cap) and parsed. Tolerant:
a malformed advisory is reported (one line: file and reason) and the rest is imported.
"""

from __future__ import annotations

import os
import sqlite3
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from shareguard.core.errors import BudgetExceeded, DatabaseError, InputError, ParseError, ShareguardError
from shareguard.core.files import read_regular
from shareguard.vuln.osv import Advisory, iter_documents, load_document, parse_advisory
from shareguard.vuln.store import VulnStore

MAX_FILE_BYTES = 64 * 1024 * 1024
"""One advisory file (Linux-kernel advisories with long version lists reach a few MB)."""
MAX_ARCHIVE_MEMBERS = 2_000_000
"""npm's all.zip holds a few hundred thousand entries (malicious-package reports included)."""
MAX_TOTAL_BYTES = 8 * 1024 * 1024 * 1024
_SUFFIXES = (".json", ".yaml", ".yml")


@dataclass(frozen=True)
class Rejected:
    path: str
    message: str


@dataclass
class ImportReport:
    source: str
    imported: int = 0
    withdrawn: int = 0
    rejected: list[Rejected] = field(default_factory=list)
    by_ecosystem: dict[str, int] = field(default_factory=dict)


def _read_zip(path: Path) -> Iterator[tuple[str, bytes | ShareguardError]]:
    try:
        zf = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError) as exc:
        raise InputError(f"not a readable zip archive: {exc}", path=str(path)) from None
    with zf:
        infos = zf.infolist()
        if len(infos) > MAX_ARCHIVE_MEMBERS:
            raise BudgetExceeded(f"archive has {len(infos)} members (limit {MAX_ARCHIVE_MEMBERS})", path=str(path))
        total = 0
        for info in infos:
            if info.is_dir() or not info.filename.lower().endswith(_SUFFIXES):
                continue
            if info.file_size > MAX_FILE_BYTES:
                yield info.filename, BudgetExceeded(f"larger than {MAX_FILE_BYTES} bytes")
                continue
            try:
                with zf.open(info) as fh:
                    data = fh.read(MAX_FILE_BYTES + 1)  # the header's size may lie (zip bomb)
            except (zipfile.BadZipFile, OSError, EOFError, ValueError, NotImplementedError) as exc:
                yield info.filename, ParseError(f"corrupt archive member: {exc}")
                continue
            if len(data) > MAX_FILE_BYTES:
                yield info.filename, BudgetExceeded(f"larger than {MAX_FILE_BYTES} bytes")
                continue
            total += len(data)
            if total > MAX_TOTAL_BYTES:
                raise BudgetExceeded(f"archive expands to more than {MAX_TOTAL_BYTES} bytes", path=str(path))
            yield info.filename, data


def _read_dir(root: Path) -> Iterator[tuple[str, bytes | ShareguardError]]:
    real_root = root.resolve()
    for dirpath, dirnames, filenames in os.walk(root, followlinks=False):
        dirnames.sort()
        for name in sorted(filenames):
            if not name.lower().endswith(_SUFFIXES):
                continue
            path = Path(dirpath) / name
            rel = path.relative_to(root).as_posix()
            try:
                if path.is_symlink() and not path.resolve().is_relative_to(real_root):
                    yield rel, ParseError("symlink points outside the imported directory; skipped")
                    continue
                yield rel, _read_file(path)
            except OSError as exc:
                yield rel, ParseError(f"cannot read: {exc.strerror or exc}")


def _read_file(path: Path) -> bytes | ShareguardError:
    """The file's bytes, or why not: a FIFO, a device or a file over the budget is this file's error, never a
    hang or an exhausted memory (the shared budgeted reader checks the type before reading)."""
    try:
        return read_regular(path, MAX_FILE_BYTES)
    except BudgetExceeded:
        return BudgetExceeded(f"larger than {MAX_FILE_BYTES} bytes")
    except ShareguardError as exc:
        return ParseError(exc.message)


def read_source(path: Path) -> Iterator[tuple[str, bytes | ShareguardError]]:
    """(name, content or the reason it cannot be read) for every advisory file of a source."""
    if path.is_dir():
        return _read_dir(path)
    if not path.is_file():
        raise InputError("no such file or directory", path=str(path))
    if zipfile.is_zipfile(path):
        return _read_zip(path)
    if not path.name.lower().endswith(_SUFFIXES):
        raise InputError("expected an OSV all.zip, a directory, or a .json/.yaml advisory", path=str(path))
    content = _read_file(path)
    if isinstance(content, ShareguardError) and not isinstance(content, BudgetExceeded):
        raise InputError(content.message, path=str(path))
    return iter([(path.name, content)])


def parse_files(
    files: Iterator[tuple[str, bytes | ShareguardError]], report: ImportReport
) -> Iterator[tuple[str, Advisory]]:
    for name, content in files:
        if isinstance(content, ShareguardError):
            report.rejected.append(Rejected(name, content.message))
            continue
        try:
            docs = iter_documents(load_document(content, name))
        except ShareguardError as exc:
            report.rejected.append(Rejected(name, exc.message))
            continue
        except UnicodeDecodeError:
            report.rejected.append(Rejected(name, "not UTF-8 text"))
            continue
        for i, doc in enumerate(docs):
            where = name if len(docs) == 1 else f"{name}[{i}]"
            try:
                yield where, parse_advisory(doc)
            except ShareguardError as exc:
                report.rejected.append(Rejected(where, exc.message))


def _kept(stored: str, incoming: str) -> bool:
    """A stored copy as recent as the incoming one stays (OSV `modified` is RFC 3339 UTC: text order is time order)."""
    return bool(stored) and stored >= incoming


def import_path(
    store: VulnStore,
    path: Path,
    *,
    label: str | None = None,
    imported_at: str | None = None,
    on_advisory: Callable[[int], None] | None = None,
    keep_newer: bool = False,
) -> ImportReport:
    """Import every advisory under `path` in one transaction; record one `sources` row per ecosystem.

    `keep_newer`: an advisory already stored with a `modified` date at or after this copy's is left as
    it is (used to refresh a database from a newer bundled snapshot without undoing a `db update`)."""
    source = label or str(path)
    report = ImportReport(source)
    files = read_source(path)
    source_ids: dict[str, int] = {}
    newest: dict[str, str] = {}
    try:
        with store.transaction() as db:
            for _name, adv in parse_files(files, report):
                if keep_newer and _kept(store.stored_modified(db, adv.id), adv.modified):
                    continue
                eco = adv.affected[0].ecosystem if adv.affected else "(none)"
                if eco not in source_ids:
                    source_ids[eco] = store.add_source(db, source, eco, imported_at)
                store.put(db, adv, source_ids[eco])
                if adv.withdrawn:
                    report.withdrawn += 1
                else:
                    report.imported += 1
                    report.by_ecosystem[eco] = report.by_ecosystem.get(eco, 0) + 1
                newest[eco] = max(newest.get(eco, ""), adv.modified)
                if on_advisory is not None:
                    on_advisory(report.imported)
            for eco, sid in source_ids.items():
                store.finish_source(db, sid, report.by_ecosystem.get(eco, 0), newest.get(eco, ""))
    except sqlite3.DatabaseError as exc:  # pragma: no cover - disk full, locked database
        raise DatabaseError(f"import failed: {exc}", path=str(store.path)) from None
    return report
