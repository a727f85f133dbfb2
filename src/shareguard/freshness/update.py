"""`shareguard catalog update [--from PATH|URL]`: import a published release source into the local store.

Sources: the AWS DLC release metadata (a `docs/src/data` directory, a repository `.tar.gz`, or a URL to one;
the default is the aws/deep-learning-containers archive on GitHub), a Google image table of `data/google.yaml`'s
shape, a Beam SDK / Dataflow support table of `data/beam.yaml`'s shape, or a whole shareguard catalog JSON. Nothing is written unless the whole source imports cleanly, so a
source that cannot be fetched or parsed leaves the previous data in place.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from pathlib import Path

import httpx

from shareguard.core.errors import CatalogError
from shareguard.core.settings import Settings
from shareguard.freshness import aws_dlc, beam, google, provider, store
from shareguard.freshness.model import CatalogSource, Release, ReleaseCatalog
from shareguard.posture import tables

AWS_ARCHIVE = "https://codeload.github.com/aws/deep-learning-containers/tar.gz/refs/heads/master"
AWS_PAGE = "https://github.com/aws/deep-learning-containers/tree/master/docs/src/data"
FETCH_TIMEOUT = 60
MAX_FETCH_BYTES = aws_dlc.MAX_ARCHIVE_BYTES


@dataclass(frozen=True)
class Imported:
    source: CatalogSource
    releases: list[Release]
    whole: ReleaseCatalog | None = None
    """A complete catalog JSON replaces everything."""
    posture_tables: tuple[tables.Table, ...] = ()
    """Posture data tables (they replace the previous copy of each; the release catalog is left as it is)."""


def fetch(url: str, settings: Settings) -> bytes:
    if settings.offline:
        raise CatalogError("offline (SHAREGUARD_OFFLINE is set): nothing fetched", path=url)
    if not url.startswith(("https://", "http://")):
        raise CatalogError("only http(s) URLs can be fetched", path=url)
    chunks: list[bytes] = []
    size = 0
    try:
        with httpx.stream("GET", url, timeout=FETCH_TIMEOUT, follow_redirects=True) as resp:
            if resp.status_code != 200:
                raise CatalogError(f"cannot fetch: HTTP {resp.status_code}", path=url)
            for chunk in resp.iter_bytes():
                size += len(chunk)
                if size > MAX_FETCH_BYTES:
                    raise CatalogError(f"over the {MAX_FETCH_BYTES}-byte budget", path=url)
                chunks.append(chunk)
    except httpx.HTTPError as exc:
        raise CatalogError(f"cannot fetch: {exc}", path=url) from None
    return b"".join(chunks)


def _snapshot_revision(root: Path) -> str:
    """The `SNAPSHOT` file (commit and date) a mirrored copy of the source keeps beside it, if any."""
    for parent in (root, *root.parents):
        snap = parent / "SNAPSHOT"
        if snap.is_file() and snap.stat().st_size < 4096:
            return snap.read_text(encoding="utf-8", errors="replace").strip()
    return ""


def _aws_source(today: date, url: str, revision: str) -> CatalogSource:
    return CatalogSource(name="aws-dlc", url=url, retrieved=today, revision=revision, license="Apache-2.0")


def _from_bytes(data: bytes, origin: str, today: date) -> Imported:
    if data[:2] == b"\x1f\x8b" or data[257:262] == b"ustar":
        return Imported(_aws_source(today, origin, ""), aws_dlc.import_archive(data, origin))
    text = data.decode("utf-8", errors="replace")
    if text.lstrip().startswith("{"):
        whole = store.decode(text, origin)
        return Imported(whole.sources[0] if whole.sources else _aws_source(today, origin, ""), [], whole)
    if provider.is_provider_catalog(text):
        internal = provider.parse_catalog(text, Path(origin))
        src = CatalogSource(name=f"internal:{internal.publisher}", url=internal.url or origin, retrieved=today)
        return Imported(src, provider.internal_releases(internal, origin))
    if tables.table_name(text) is not None:
        table = tables.parse(text, origin)
        src = CatalogSource(name=table.name, url=str(table.doc.get("source") or origin), retrieved=table.retrieved)
        return Imported(src, [], posture_tables=(table,))
    if beam.is_table(text):
        source, releases = beam.parse_table(text, origin)
        return Imported(source, releases)
    source, releases = google.parse_table(text, origin)
    return Imported(source, releases)


def import_source(location: str | None, settings: Settings, today: date) -> Imported:
    if location is None:
        return _from_bytes(fetch(AWS_ARCHIVE, settings), AWS_ARCHIVE, today)
    if location.startswith(("https://", "http://")):
        return _from_bytes(fetch(location, settings), location, today)
    path = Path(location)
    if path.is_dir():
        found = _tables_in(path)
        if found:  # a folder of posture tables (`*.yaml` with their kind), else AWS DLC release metadata
            src = CatalogSource(name="posture tables", url=str(path), retrieved=max(t.retrieved for t in found))
            return Imported(src, [], posture_tables=found)
        return Imported(_aws_source(today, AWS_PAGE, _snapshot_revision(path)), aws_dlc.import_directory(path))
    if not path.is_file():
        raise CatalogError("no such file or directory", path=location)
    if path.stat().st_size > MAX_FETCH_BYTES:
        raise CatalogError(f"over the {MAX_FETCH_BYTES}-byte budget", path=location)
    return _from_bytes(path.read_bytes(), location, today)


def _tables_in(folder: Path) -> tuple[tables.Table, ...]:
    """The posture tables of a folder (`*.yaml` files with their `kind:`); one that does not validate refuses all."""
    out: dict[str, tables.Table] = {}
    for path in sorted(folder.glob("*.yaml"))[:100]:
        if not path.is_file() or path.stat().st_size > tables.MAX_BYTES:
            continue
        text = path.read_text(encoding="utf-8", errors="replace")
        if tables.table_name(text) is not None:
            table = tables.parse(text, str(path))
            if table.name in out:
                raise CatalogError(
                    f"a second {tables.TITLES[table.name]} (first: {out[table.name].origin})", path=str(path)
                )
            out[table.name] = table
    return tuple(out.values())


def update(location: str | None, settings: Settings, today: date) -> tuple[ReleaseCatalog, Imported]:
    """Import `location` and write the merged catalog to the local store; raises before writing anything."""
    imported = import_source(location, settings, today)
    if imported.posture_tables:
        for table in imported.posture_tables:
            tables.save(table, settings)
        return store.load(settings), imported
    if imported.whole is not None:
        catalog = imported.whole
    else:
        catalog = store.merge(store.load(settings), imported.source, imported.releases)
    store.save(catalog, store.local_path(settings))
    return catalog, imported
