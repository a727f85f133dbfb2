"""apk: `lib/apk/db/installed` (Alpine, Wolfi, Chainguard): `P:` name, `V:` version, `A:` arch, `o:` origin
(source package), `L:` license, `m:` maintainer, `F:`/`R:` owned directories and files."""

from __future__ import annotations

from shareguard.core.analyzer import PathHint
from shareguard.core.context import ScanContext
from shareguard.core.entry import FileEntry
from shareguard.core.facts import Fact, Package
from shareguard.image.analyzers import purls
from shareguard.image.analyzers._common import MIB, InventoryFiles, body, decode_text, relevant_owned
from shareguard.image.facts import OwnedFiles

INSTALLED = "lib/apk/db/installed"
_MAX = 256 * MIB


def _package(fields: dict[str, str], files: list[str], path: str, layer: str | None) -> list[Fact]:
    name, version = fields.get("P", ""), fields.get("V", "")
    if not name or not version:
        return []
    arch = fields.get("A") or None
    extra = tuple((k, fields[f]) for k, f in (("maintainer", "m"), ("commit", "c")) if fields.get(f))
    facts: list[Fact] = [
        Package(
            name=name,
            version=version,
            ecosystem="Alpine",  # refined (e.g. `Alpine:v3.19`) by the distro finalizer
            path=path,
            layer=layer,
            purl=purls.apk("alpine", name, version, arch, None),
            source_name=fields.get("o") or name,
            source_version=version,
            arch=arch,
            origin="os",
            os_managed=True,
            licenses=(fields["L"],) if fields.get("L") else (),
            extra=extra,
        )
    ]
    owned = relevant_owned(files)
    if owned:
        facts.append(
            OwnedFiles(manager="apk", package=name, path=path, layer=layer, files=owned, package_version=version)
        )
    return facts


def parse_installed(text: str, path: str, layer: str | None) -> list[Fact]:
    facts: list[Fact] = []
    fields: dict[str, str] = {}
    files: list[str] = []
    folder = ""
    for line in text.splitlines():
        if not line.strip():
            facts.extend(_package(fields, files, path, layer))
            fields, files, folder = {}, [], ""
            continue
        if len(line) < 2 or line[1] != ":":
            continue
        key, value = line[0], line[2:]
        if key == "F":
            folder = value.strip("/")
            files.append(folder)
        elif key == "R":
            files.append(f"{folder}/{value}" if folder else value)
        elif key not in fields:
            fields[key] = value.strip()
    facts.extend(_package(fields, files, path, layer))
    return facts


class ApkAnalyzer(InventoryFiles):
    name = "inventory.apk"
    version = "1"

    path_hint = PathHint.ending(INSTALLED, installed=True)

    def required(self, path: str, size: int) -> bool:
        return path == INSTALLED

    def max_bytes(self, path: str) -> int | None:
        return _MAX

    def analyze(self, entry: FileEntry, ctx: ScanContext) -> list[Fact]:
        path, content, layer = entry.rel_path, body(entry), entry.layer
        return parse_installed(decode_text(content), path, layer)
