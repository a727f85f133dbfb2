"""SemVer 2.0 order (npm, OSV `SEMVER` ranges) with `semver`."""

from __future__ import annotations

import semver


def key(version: str) -> semver.Version:
    # npm tolerates a leading "v" and "=" (`npm install x@v1.2.3`); OSV's SEMVER strings have none.
    text = version.strip().lstrip("=v")
    return semver.Version.parse(text, optional_minor_and_patch=True)
