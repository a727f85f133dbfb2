"""rpm order (rpmvercmp: epochs, tildes, carets) with `univers`."""

from __future__ import annotations

from univers.versions import RpmVersion


def key(version: str) -> RpmVersion:
    if not version or version.strip() != version:
        raise ValueError(f"not an rpm version: {version!r}")
    return RpmVersion(version)
