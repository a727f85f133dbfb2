"""dpkg: `var/lib/dpkg/status`, distroless `status.d/<package>` files and `info/<package>.list` file lists."""

from __future__ import annotations

from shareguard.core.analyzer import PathHint
from shareguard.core.context import ScanContext
from shareguard.core.entry import FileEntry
from shareguard.core.facts import Fact, Package
from shareguard.image.analyzers import purls
from shareguard.image.analyzers._common import MIB, InventoryFiles, basename, body, decode_text, relevant_owned
from shareguard.image.facts import OwnedFiles

STATUS = "var/lib/dpkg/status"
STATUS_D = "var/lib/dpkg/status.d/"
INFO = "var/lib/dpkg/info/"
_MAX_STATUS = 128 * MIB
_MAX_LIST = 64 * MIB
_INSTALLED_WANTS = frozenset({"install", "hold"})
# Only these fields are kept: parsing fewer fields halves python-debian's time on large status files.
_FIELDS = ["Package", "Status", "Version", "Architecture", "Source", "Maintainer"]
# dpkg ends lines with LF only; `str.splitlines` (which python-debian also uses to check values) breaks at
# VT, FF, FS, GS, RS, NEL, LS, PS and a lone CR too, so a stray one made an empty continuation line and a
# ValueError. Such characters become spaces; CRLF stays one line break.
_FOREIGN_BREAKS = str.maketrans({c: " " for c in "\r\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029"})


def _installed(status: str | None, *, required: bool) -> bool:
    """`Status: install ok installed` (or `hold ok installed`); status.d files may omit the field."""
    if status is None:
        return not required
    words = status.split()
    return len(words) == 3 and words[0] in _INSTALLED_WANTS and words[2] == "installed"


def parse_source(source: str | None, name: str, version: str) -> tuple[str, str]:
    """`Source: glibc (2.36-9+deb12u4)` → ("glibc", "2.36-9+deb12u4"); absent → the binary's own name/version."""
    if not source or not source.strip():
        return name, version
    src = source.strip()
    if "(" in src and src.endswith(")"):
        src_name, _, rest = src.partition("(")
        return src_name.strip() or name, rest[:-1].strip() or version
    return src.split()[0], version


def packages_from_control(text: str, path: str, layer: str | None, *, status_required: bool) -> list[Fact]:
    from debian import deb822  # here: ~70 ms of start-up that only image scans need

    out: list[Fact] = []
    lines = text.replace("\r\n", "\n").translate(_FOREIGN_BREAKS).split("\n")
    for para in deb822.Deb822.iter_paragraphs(lines, fields=_FIELDS, use_apt_pkg=False):
        name = (para.get("Package") or "").strip()
        version = (para.get("Version") or "").strip()
        if not name or not version or not _installed(para.get("Status"), required=status_required):
            continue
        arch = (para.get("Architecture") or "").strip() or None
        source_name, source_version = parse_source(para.get("Source"), name, version)
        extra: list[tuple[str, str]] = []
        maintainer = (para.get("Maintainer") or "").strip()
        if maintainer:
            extra.append(("maintainer", maintainer))
        if "~bpo" in version:
            # From `<release>-backports`: the release's own advisories name other versions.
            extra.append(("backport", "true"))
        out.append(
            Package(
                name=name,
                version=version,
                ecosystem="Debian",  # refined from the merged OSInfo by the distro finalizer
                path=path,
                layer=layer,
                purl=purls.deb("debian", name, version, arch, None),
                source_name=source_name,
                source_version=source_version,
                arch=arch,
                origin="os",
                os_managed=True,
                extra=tuple(extra),
            )
        )
    return out


def list_package_name(path: str) -> str:
    """`var/lib/dpkg/info/libc6:amd64.list` → `libc6`."""
    return basename(path)[: -len(".list")].split(":")[0]


class DpkgAnalyzer(InventoryFiles):
    name = "inventory.dpkg"
    version = "1"

    path_hint = PathHint(prefixes=("var/lib/dpkg/",), installed=True)

    def required(self, path: str, size: int) -> bool:
        if path[:1] != "v" or not path.startswith("var/lib/dpkg/"):  # cheapest tests first
            return False
        if path == STATUS:
            return True
        if path.startswith(INFO):
            return path.endswith(".list")
        if path.startswith(STATUS_D):
            return not path.endswith(".md5sums") and "/" not in path[len(STATUS_D) :]
        return False

    def max_bytes(self, path: str) -> int | None:
        return _MAX_STATUS if path == STATUS else _MAX_LIST

    def analyze(self, entry: FileEntry, ctx: ScanContext) -> list[Fact]:
        path, content, layer = entry.rel_path, body(entry), entry.layer
        if path.startswith(INFO):
            owned = relevant_owned(decode_text(content).splitlines())
            if not owned:
                return []
            return [OwnedFiles(manager="dpkg", package=list_package_name(path), path=path, layer=layer, files=owned)]
        return packages_from_control(decode_text(content), path, layer, status_required=path == STATUS)
