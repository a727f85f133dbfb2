"""Python distributions: `*.dist-info/METADATA`, `*.egg-info/PKG-INFO`, `*.egg-info` files, `EGG-INFO/PKG-INFO`
(eggs), and `*.dist-info/INSTALLER` (who installed it: pip, conda, uv…), in any site-packages or venv."""

from __future__ import annotations

from email.parser import HeaderParser

from packaging.utils import canonicalize_name

from shareguard.core.analyzer import PathHint
from shareguard.core.context import ScanContext
from shareguard.core.entry import FileEntry
from shareguard.core.facts import Fact, Package
from shareguard.image.analyzers import purls
from shareguard.image.analyzers._common import EVERYWHERE, MIB, InventoryFiles, basename, body, decode_text, parent
from shareguard.image.facts import PythonInstaller

_SUFFIXES = ("/METADATA", "/PKG-INFO", ".egg-info", "/INSTALLER")
_LAST_CHARS = frozenset(s[-1] for s in _SUFFIXES)
_MAX = 16 * MIB
_MAX_INSTALLER = 4096
_LICENSE_CLASSIFIER = "License :: "


def metadata_dir(path: str) -> str:
    """The `.dist-info`/`.egg-info`/`EGG-INFO` directory (or the egg-info file itself) of a metadata path."""
    return path if path.endswith(".egg-info") else parent(path)


def is_os_location(path: str) -> bool:
    """Debian/Ubuntu's package-manager-only tree (`pip` writes to `usr/local/lib/python3.X/dist-packages`)."""
    return path.startswith("usr/lib/python") and "/dist-packages/" in path


def vendored_in(directory: str) -> str | None:
    """`…/site-packages/setuptools/_vendor/packaging-24.0.dist-info` → `setuptools` (a bundled copy)."""
    holder = parent(directory)
    if basename(holder) in ("_vendor", "vendor", "_vendored"):
        return basename(parent(holder)) or None
    return None


def _licenses(headers: dict[str, str], classifiers: list[str]) -> tuple[str, ...]:
    expression = headers.get("License-Expression", "").strip()
    if expression:
        return (expression,)
    text = headers.get("License", "").strip()
    if text and "\n" not in text and len(text) <= 100 and text.upper() != "UNKNOWN":
        return (text,)
    found = [c.rsplit("::", 1)[-1].strip() for c in classifiers if c.startswith(_LICENSE_CLASSIFIER)]
    return tuple(dict.fromkeys(f for f in found if f and f != "OSI Approved"))


def _name_version_from_dir(directory: str) -> tuple[str, str]:
    """`PyYAML-6.0.dist-info` → ("PyYAML", "6.0"); the fallback when headers are missing."""
    stem = basename(directory)
    for suffix in (".dist-info", ".egg-info"):
        if stem.endswith(suffix):
            stem = stem[: -len(suffix)]
    name, _, rest = stem.partition("-")
    return name, rest.split("-")[0]


def parse_metadata(path: str, content: bytes, layer: str | None) -> list[Fact]:
    # Only the header block matters; the body (often a whole README) is skipped.
    head = content[:_MAX].replace(b"\r\n", b"\n").split(b"\n\n", 1)[0]
    message = HeaderParser().parsestr(decode_text(head))
    headers = {k: str(v) for k, v in message.items()}
    directory = metadata_dir(path)
    dir_name, dir_version = _name_version_from_dir(directory)
    raw_name = headers.get("Name", "").strip() or dir_name
    version = headers.get("Version", "").strip() or dir_version
    if not raw_name or not version or len(raw_name) > 200 or len(version) > 200:
        return []
    name = str(canonicalize_name(raw_name))
    extra: list[tuple[str, str]] = []
    if raw_name != name:
        extra.append(("declared_name", raw_name))
    os_location = is_os_location(path)
    vendored = vendored_in(directory)
    if vendored:
        extra.append(("vendored_in", vendored))
    return [
        Package(
            name=name,
            version=version,
            ecosystem="PyPI",
            path=path,
            layer=layer,
            purl=purls.pypi(name, version),
            origin="pip",
            os_managed=os_location,
            licenses=_licenses(headers, [str(c) for c in message.get_all("Classifier") or []]),
            extra=tuple(extra),
        )
    ]


class PythonAnalyzer(InventoryFiles):
    name = "inventory.python"
    version = "1"
    sources = EVERYWHERE

    path_hint = PathHint.ending(*_SUFFIXES, installed=True)

    def required(self, path: str, size: int) -> bool:
        # Last-character test first: it rejects ~all paths in one cheap step (this runs per image file).
        if path[-1:] not in _LAST_CHARS or not path.endswith(_SUFFIXES):
            return False
        if path.endswith("/INSTALLER"):
            return path.endswith(".dist-info/INSTALLER")
        if path.endswith("/METADATA"):
            return path.endswith(".dist-info/METADATA")
        if path.endswith("/PKG-INFO"):
            return path.endswith((".egg-info/PKG-INFO", "/EGG-INFO/PKG-INFO"))
        return True  # `name-version.egg-info` as a single file

    def max_bytes(self, path: str) -> int | None:
        return _MAX_INSTALLER if path.endswith("/INSTALLER") else _MAX

    def analyze(self, entry: FileEntry, ctx: ScanContext) -> list[Fact]:
        path, content, layer = entry.rel_path, body(entry), entry.layer
        if path.endswith("/INSTALLER"):
            lines = decode_text(content[:_MAX_INSTALLER]).strip().splitlines()
            installer = lines[0].strip()[:64] if lines else ""
            return [PythonInstaller(path=parent(path), installer=installer, layer=layer)] if installer else []
        return parse_metadata(path, content, layer)
