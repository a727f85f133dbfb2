"""The operating system: `os-release` (freedesktop format), with `alpine-release`/`debian_version` fallbacks."""

from __future__ import annotations

from shareguard.core.analyzer import PathHint
from shareguard.core.context import ScanContext
from shareguard.core.entry import FileEntry
from shareguard.core.facts import Fact, OSInfo
from shareguard.image.analyzers._common import InventoryFiles, body, decode_text

OS_RELEASE_PATHS = ("etc/os-release", "usr/lib/os-release")
FALLBACK_PATHS = ("etc/alpine-release", "etc/debian_version")
_ALL = frozenset(OS_RELEASE_PATHS + FALLBACK_PATHS)
_MAX = 64 * 1024


def parse_os_release(text: str) -> dict[str, str]:
    """KEY=value lines; values may be quoted with shell rules (only quotes and backslashes matter here)."""
    out: dict[str, str] = {}
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line.startswith("#") or "=" not in line:
            continue
        key, _, value = line.partition("=")
        key = key.strip()
        if not key.isidentifier():
            continue
        value = value.strip()
        quote = value[:1]
        if len(value) >= 2 and quote in ("'", '"') and value[-1] == quote:
            value = value[1:-1]
            if quote == '"':  # shell double quotes: backslash escapes $ ` " and itself
                value = value.replace('\\"', '"').replace("\\$", "$").replace("\\`", "`").replace("\\\\", "\\")
        out[key] = value
    return out


class OSReleaseAnalyzer(InventoryFiles):
    name = "inventory.os-release"
    version = "1"

    path_hint = PathHint.ending(*_ALL, installed=True)

    def required(self, path: str, size: int) -> bool:
        return path in _ALL

    def max_bytes(self, path: str) -> int | None:
        return _MAX

    def analyze(self, entry: FileEntry, ctx: ScanContext) -> list[Fact]:
        path, content, layer = entry.rel_path, body(entry), entry.layer
        text = decode_text(content[:_MAX])
        if path in OS_RELEASE_PATHS:
            fields = parse_os_release(text)
            os_id = fields.get("ID", "").strip().lower()
            if not os_id:
                return []
            return [
                OSInfo(
                    id=os_id,
                    version_id=fields.get("VERSION_ID", ""),
                    pretty_name=fields.get("PRETTY_NAME", ""),
                    version_codename=fields.get("VERSION_CODENAME", "") or fields.get("UBUNTU_CODENAME", ""),
                    distroless="distroless" in fields.get("PRETTY_NAME", "").lower(),
                    path=path,
                    layer=layer,
                )
            ]
        first = text.strip().splitlines()[0].strip() if text.strip() else ""
        if not first or len(first) > 64:
            return []
        if path == "etc/alpine-release":
            return [OSInfo(id="alpine", version_id=first, pretty_name=f"Alpine Linux v{first}", path=path, layer=layer)]
        # debian_version is `12.5` on releases and `bookworm/sid` on testing/unstable.
        version = first if first[:1].isdigit() else ""
        codename = first.split("/")[0] if not version else ""
        return [OSInfo(id="debian", version_id=version, version_codename=codename, path=path, layer=layer)]
