"""One OS per target: merge the OSInfo facts (os-release first, then fallbacks) and detect distroless."""

from __future__ import annotations

import dataclasses

from shareguard.core.facts import Fact, OSInfo

# Lower rank wins.
_RANK = {"etc/os-release": 0, "usr/lib/os-release": 1, "etc/alpine-release": 2, "etc/debian_version": 3}
_STATUS = "var/lib/dpkg/status"
_STATUS_D = "var/lib/dpkg/status.d/"


def merge_os(infos: list[OSInfo]) -> OSInfo:
    ranked = sorted(infos, key=lambda i: _RANK.get(i.path, 9))
    best = ranked[0]
    for other in ranked[1:]:
        # e.g. Debian testing: os-release has no VERSION_ID, debian_version names the codename.
        if other.id == best.id:
            if not best.version_id and other.version_id:
                best = dataclasses.replace(best, version_id=other.version_id)
            if not best.version_codename and other.version_codename:
                best = dataclasses.replace(best, version_codename=other.version_codename)
    return best


def is_distroless(info: OSInfo, files: dict[str, str | None]) -> bool:
    """Distroless: says so in PRETTY_NAME, or a Debian with per-package `status.d/` files and no `status`."""
    if info.distroless or "distroless" in info.pretty_name.lower():
        return True
    if info.id != "debian" or _STATUS in files:
        return False
    return any(p.startswith(_STATUS_D) for p in files)


class OSInfoFinalizer:
    name = "inventory.os"
    order = 10

    def finalize(self, facts: list[Fact], files: dict[str, str | None]) -> list[Fact]:
        infos = [f for f in facts if isinstance(f, OSInfo)]
        if not infos:
            return facts
        merged = merge_os(infos)
        if is_distroless(merged, files) != merged.distroless:
            merged = dataclasses.replace(merged, distroless=True)
        return [f for f in facts if not isinstance(f, OSInfo)] + [merged]
