"""Per-ecosystem version order behind one interface.

Each scheme turns a version string into a key with a total order (`<`, `==`) that follows the
ecosystem's own rules; keys are cached per string so that a scan parses each version once.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from functools import lru_cache, partial
from typing import Any

from shareguard.vuln.versions import apk, dpkg, npm, pep440, rpm

KeyFn = Callable[[str], Any]


class InvalidVersion(ValueError):
    """A version string the ecosystem's rules cannot order."""


@dataclass(frozen=True)
class VersionScheme:
    name: str
    _key: KeyFn
    key: KeyFn = field(init=False, repr=False, compare=False)
    """`key(version)`: an orderable key; raises InvalidVersion when the string is not a version of
    this scheme. A partial of the cached function, not a method: it is called once per package."""

    def __post_init__(self) -> None:
        object.__setattr__(self, "key", partial(_cached_key, self.name, self._key))

    def compare(self, a: str, b: str) -> int:
        ka, kb = self.key(a), self.key(b)
        return int(ka > kb) - int(ka < kb)


@lru_cache(maxsize=200_000)
def _cached_key(scheme: str, fn: KeyFn, version: str) -> Any:
    try:
        return fn(version)
    except InvalidVersion:
        raise
    except (ValueError, TypeError, AttributeError, IndexError) as exc:
        raise InvalidVersion(f"{scheme}: not a version: {version!r}") from exc


PEP440 = VersionScheme("pep440", pep440.key)
DPKG = VersionScheme("dpkg", dpkg.key)
RPM = VersionScheme("rpm", rpm.key)
APK = VersionScheme("apk", apk.key)
SEMVER = VersionScheme("semver", npm.key)

# OSV ecosystem (without its `:release` suffix) → version order. conda is matched through PyPI
# names and versions (conda-forge keeps upstream PEP 440 versions for Python projects).
_BY_ECOSYSTEM: dict[str, VersionScheme] = {
    "PyPI": PEP440,
    "conda": PEP440,
    "npm": SEMVER,
    "Debian": DPKG,
    "Ubuntu": DPKG,
    "Alpine": APK,
    "Wolfi": APK,
    "Chainguard": APK,
    "Red Hat": RPM,
    "AlmaLinux": RPM,
    "Rocky Linux": RPM,
    "openSUSE": RPM,
    "SUSE": RPM,
    "Mageia": RPM,
}


def scheme_for(ecosystem: str) -> VersionScheme | None:
    """The scheme of an OSV ecosystem (`Debian:12` → dpkg); None for ecosystems not supported."""
    return _BY_ECOSYSTEM.get(ecosystem.split(":", 1)[0])


def scheme_for_range_type(range_type: str, ecosystem: str) -> VersionScheme | None:
    """OSV `SEMVER` ranges use SemVer 2.0 order whatever the ecosystem; `ECOSYSTEM` the ecosystem's."""
    if range_type == "SEMVER":
        return SEMVER
    if range_type == "ECOSYSTEM":
        return scheme_for(ecosystem)
    return None  # GIT ranges need the repository: the explicit `versions` list covers them
