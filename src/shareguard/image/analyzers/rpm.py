"""rpm: the sqlite rpmdb (`rpmdb.sqlite`, rpm ≥ 4.16: RHEL 9, Fedora ≥ 33, Rocky/Alma 9, openSUSE) and the
BerkeleyDB one (`Packages`, older rpm: RHEL/CentOS 7-8, UBI 8, Amazon Linux 2).

ndb databases (`Packages.db`, some openSUSE) are not decoded; the distro finalizer reports them as an
`InventoryNotice` from the file list alone.
"""

from __future__ import annotations

import sqlite3

from shareguard.core.analyzer import PathHint
from shareguard.core.context import ScanContext
from shareguard.core.entry import FileEntry
from shareguard.core.errors import ParseError
from shareguard.core.facts import Fact, Package
from shareguard.image.analyzers import purls, rpm_bdb
from shareguard.image.analyzers._common import MIB, InventoryFiles, body, relevant_owned
from shareguard.image.analyzers.rpm_header import (
    ARCH,
    EPOCH,
    LICENSE,
    NAME,
    RELEASE,
    SOURCERPM,
    VENDOR,
    VERSION,
    RpmHeader,
    RpmHeaderError,
)
from shareguard.image.facts import InventoryNotice, OwnedFiles

SQLITE_PATHS = frozenset({"var/lib/rpm/rpmdb.sqlite", "usr/lib/sysimage/rpm/rpmdb.sqlite"})
BDB_PATHS = frozenset({"var/lib/rpm/Packages", "usr/lib/sysimage/rpm/Packages"})
DB_PATHS = SQLITE_PATHS | BDB_PATHS
UNSUPPORTED_PATHS = {"var/lib/rpm/Packages.db": "ndb", "usr/lib/sysimage/rpm/Packages.db": "ndb"}
_MAX = 1024 * MIB
_SQLITE_MAGIC = b"SQLite format 3\0"
# A hostile database (e.g. a view over a recursive query) must not run forever.
_MAX_VM_STEPS = 500_000_000
# Pseudo-packages that hold imported signing keys, not software.
_SKIP = frozenset({"gpg-pubkey", "gpg-pubkey-release"})


def split_source_rpm(source_rpm: str | None) -> tuple[str | None, str | None]:
    """`openssl-3.0.7-27.el9.src.rpm` → ("openssl", "3.0.7-27.el9")."""
    if not source_rpm:
        return None, None
    stem = source_rpm
    for suffix in (".src.rpm", ".nosrc.rpm"):
        if stem.endswith(suffix):
            stem = stem[: -len(suffix)]
            break
    parts = stem.rsplit("-", 2)
    if len(parts) != 3 or not all(parts):
        return None, None
    return parts[0], f"{parts[1]}-{parts[2]}"


def _open_blob_rows(path: str, content: bytes) -> list[bytes]:
    if not content.startswith(_SQLITE_MAGIC):
        raise ParseError("not an sqlite rpmdb", path=path)
    data = content
    if content[18:20] == b"\x02\x02":
        # WAL-mode databases cannot be deserialized; the main file is complete after a checkpoint.
        data = content[:18] + b"\x01\x01" + content[20:]
    con = sqlite3.connect(":memory:")
    budget = [_MAX_VM_STEPS // 1000]

    def _tick() -> int:
        budget[0] -= 1
        return 1 if budget[0] < 0 else 0  # non-zero aborts the query

    try:
        con.deserialize(data)
        con.set_progress_handler(_tick, 1000)
        kind = con.execute("SELECT type FROM sqlite_master WHERE name = 'Packages'").fetchone()
        if kind is None or kind[0] != "table":
            raise ParseError("sqlite rpmdb has no Packages table", path=path)
        rows = con.execute("SELECT blob FROM Packages").fetchall()
    except (sqlite3.Error, UnicodeDecodeError) as exc:  # a damaged schema text is not UTF-8
        raise ParseError(f"unreadable sqlite rpmdb: {exc}", path=path) from None
    finally:
        con.close()
    return [r[0] for r in rows if isinstance(r[0], bytes)]


def package_facts(header: RpmHeader, path: str, layer: str | None) -> list[Fact]:
    name = header.string(NAME)
    version = header.string(VERSION)
    release = header.string(RELEASE)
    if not name or not version or name in _SKIP:
        return []
    epoch = header.int32(EPOCH)
    evr = f"{version}-{release}" if release else version
    full = f"{epoch}:{evr}" if epoch is not None else evr
    arch = header.string(ARCH) or None
    src_name, src_version = split_source_rpm(header.string(SOURCERPM))
    if src_version and epoch is not None:
        src_version = f"{epoch}:{src_version}"
    vendor = header.string(VENDOR) or ""
    license_ = header.string(LICENSE) or ""
    extra = (("vendor", vendor),) if vendor else ()
    facts: list[Fact] = [
        Package(
            name=name,
            version=full,
            ecosystem="rpm",  # refined from the merged OSInfo by the distro finalizer
            path=path,
            layer=layer,
            purl=purls.rpm("rpm", name, evr, str(epoch) if epoch is not None else None, arch, None),
            source_name=src_name or name,
            source_version=src_version or full,
            arch=arch,
            origin="os",
            os_managed=True,
            licenses=(license_,) if license_ else (),
            extra=extra,
        )
    ]
    owned = relevant_owned(header.file_paths())
    if owned:
        facts.append(OwnedFiles(manager="rpm", package=name, path=path, layer=layer, files=owned, package_version=full))
    return facts


class RpmAnalyzer(InventoryFiles):
    name = "inventory.rpm"
    version = "1"

    path_hint = PathHint.ending(*DB_PATHS, installed=True)

    def required(self, path: str, size: int) -> bool:
        return path in DB_PATHS

    def max_bytes(self, path: str) -> int | None:
        return _MAX

    def analyze(self, entry: FileEntry, ctx: ScanContext) -> list[Fact]:
        path, content, layer = entry.rel_path, body(entry), entry.layer
        facts: list[Fact] = []
        broken = 0
        if path in BDB_PATHS:
            try:
                blobs = list(rpm_bdb.values(content))
            except rpm_bdb.BdbError as exc:
                raise rpm_bdb.BdbError(exc.message, path=path) from None
        else:
            blobs = _open_blob_rows(path, content)
        for blob in blobs:
            try:
                facts.extend(package_facts(RpmHeader(blob), path, layer))
            except RpmHeaderError:
                broken += 1
        if broken:
            facts.append(InventoryNotice(path=path, layer=layer, message=f"{broken} malformed rpm header(s) skipped"))
        return facts
