"""rpm order (rpmvercmp: epochs, tildes, carets) with `univers`."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from univers.versions import RpmVersion


def key(version: str) -> RpmVersion:
    from univers.versions import RpmVersion  # here: univers costs ~0.1 s of every command's start-up

    if not version or version.strip() != version:
        raise ValueError(f"not an rpm version: {version!r}")
    return RpmVersion(version)
