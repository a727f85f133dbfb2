"""Alpine apk order (`1.2.3-r1` < `1.2.3-r10`, `_rc` < release < `_p`) with `univers`."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from univers.versions import AlpineLinuxVersion


def key(version: str) -> AlpineLinuxVersion:
    from univers.versions import AlpineLinuxVersion  # here: univers costs ~0.1 s of every command's start-up

    if not AlpineLinuxVersion.is_valid(version):  # type: ignore[no-untyped-call]
        raise ValueError(f"not an apk version: {version!r}")
    return AlpineLinuxVersion(version)
