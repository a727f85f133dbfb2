"""OSV ecosystem names: base ecosystem, release suffix, package-name normalisation, release match."""

from __future__ import annotations

import re

DISTRO_ECOSYSTEMS = frozenset(
    {
        "Debian",
        "Ubuntu",
        "Alpine",
        "Wolfi",
        "Chainguard",
        "Red Hat",
        "AlmaLinux",
        "Rocky Linux",
        "openSUSE",
        "SUSE",
        "Mageia",
    }
)
"""Advisories of the OS package manager: only OS-managed packages of the same distro match them."""

SUPPORTED = frozenset({"PyPI", "npm", "conda", *DISTRO_ECOSYSTEMS})

_PEP503 = re.compile(r"[-_.]+")


def split(ecosystem: str) -> tuple[str, str]:
    """`Debian:12` → (`Debian`, `12`); `Ubuntu:22.04:LTS` → (`Ubuntu`, `22.04:LTS`); `PyPI` → (`PyPI`, ``)."""
    base, _, release = ecosystem.partition(":")
    return base.strip(), release.strip()


def normalise_name(base: str, name: str) -> str:
    """The lookup key of a package name in its ecosystem (PEP 503 for PyPI; case-folded elsewhere)."""
    if base in ("PyPI", "conda"):
        return _PEP503.sub("-", name).lower()
    return name.strip().lower()


def _release_core(base: str, release: str) -> str:
    """The comparable part of a release, whether written OSV-style (`22.04:LTS`, `v3.19`, `12`) or as
    os-release VERSION_ID (`22.04`, `3.19.1`, `12`)."""
    parts = [p for p in release.split(":") if p and p not in ("LTS",)]
    if not parts:
        return ""
    first = parts[0].lstrip("v") if base in ("Alpine",) else parts[0]
    numbers = first.split(".")
    if base in ("Ubuntu", "Alpine"):
        return ".".join(numbers[:2])
    if first[:1].isdigit():
        return numbers[0]  # Debian 12, Rocky Linux 9, AlmaLinux 9: the major release
    return first  # a codename such as `sid`


def release_matches(base: str, advisory_release: str, package_release: str) -> bool:
    """Does an advisory scoped to `advisory_release` (`12`, `22.04:LTS`, `v3.19`) apply to a package
    of release `package_release` (same notation, or os-release VERSION_ID)?

    Ecosystems without a release suffix apply everywhere. Ubuntu Pro (ESM) advisories fix packages
    only available with a Pro subscription, so they do not apply to a plain install.
    """
    if not advisory_release:
        return True
    if not package_release:
        return False
    adv_parts = advisory_release.split(":")
    if "Pro" in adv_parts and "Pro" not in package_release.split(":"):
        return False
    return _release_core(base, advisory_release) == _release_core(base, package_release)
