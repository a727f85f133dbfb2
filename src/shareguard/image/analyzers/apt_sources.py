"""apt repositories (`sources.list`, `sources.list.d/*.list|*.sources`): evidence of third-party repositories."""

from __future__ import annotations

from shareguard.core.analyzer import PathHint
from shareguard.core.context import ScanContext
from shareguard.core.entry import FileEntry
from shareguard.core.facts import Fact
from shareguard.image.analyzers._common import InventoryFiles, body, decode_text
from shareguard.image.facts import AptSource

_DIR = "etc/apt/sources.list.d/"
_MAX = 1024 * 1024


def repository_urls(text: str) -> list[str]:
    """URLs of active `deb`/`deb-src` lines (one-line format) and `URIs:` fields (deb822 format)."""
    urls: list[str] = []
    for raw in text.splitlines():
        line = raw.split("#", 1)[0].strip()
        if line.startswith(("deb ", "deb-src ", "URIs:")):
            urls.extend(tok.rstrip("/") for tok in line.split() if "://" in tok and not tok.startswith("["))
    return list(dict.fromkeys(urls))


class AptSourcesAnalyzer(InventoryFiles):
    name = "inventory.apt-sources"
    version = "1"

    path_hint = PathHint(prefixes=("etc/apt/",), installed=True)

    def required(self, path: str, size: int) -> bool:
        if path[:1] != "e" or not path.startswith("etc/apt/sources.list"):
            return False
        return path == "etc/apt/sources.list" or (
            path.startswith(_DIR) and path.endswith((".list", ".sources")) and "/" not in path[len(_DIR) :]
        )

    def max_bytes(self, path: str) -> int | None:
        return _MAX

    def analyze(self, entry: FileEntry, ctx: ScanContext) -> list[Fact]:
        path, content, layer = entry.rel_path, body(entry), entry.layer
        return [AptSource(url=u, path=path, layer=layer) for u in repository_urls(decode_text(content))]
