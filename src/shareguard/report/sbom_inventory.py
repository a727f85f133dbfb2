"""What both SBOM writers read from a scan result: the packages (deduplicated, in a stable order),
the OS, the image's identity, and the vulnerability findings of each package."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import PurePath

from shareguard.core.facts import ImageIdentity, OSInfo, Package
from shareguard.core.finding import Finding
from shareguard.core.purl import package_purl
from shareguard.core.result import ScanResult


@dataclass(frozen=True)
class SbomPackage:
    ref: str
    """Unique, stable within the document (bom-ref / SPDXID suffix)."""
    package: Package
    purl: str | None


@dataclass(frozen=True)
class Inventory:
    target: str
    command: str
    os: OSInfo | None
    image: ImageIdentity | None
    packages: tuple[SbomPackage, ...]
    vulnerabilities: tuple[tuple[Finding, str], ...]
    """(finding, ref of its package) for every vulnerability finding."""


def _ref(pkg: Package) -> str:
    digest = hashlib.sha256(f"{pkg.ecosystem}|{pkg.name}|{pkg.version}|{pkg.path}".encode()).hexdigest()[:16]
    return f"pkg-{digest}"


def collect(result: ScanResult) -> Inventory:
    os_info = next(iter(result.facts.of(OSInfo)), None)
    image = next(iter(result.facts.of(ImageIdentity)), None)
    seen: dict[str, SbomPackage] = {}
    for pkg in result.facts.of(Package):
        purl = package_purl(pkg, os_info)
        key = _ref(pkg)
        if key not in seen:
            seen[key] = SbomPackage(key, pkg, purl)
    packages = tuple(
        sorted(
            seen.values(),
            key=lambda p: (p.package.ecosystem, p.package.name.lower(), p.package.version, p.package.path),
        )
    )
    by_key = {(p.package.name, p.package.version, p.package.path): p.ref for p in packages}
    vulns: list[tuple[Finding, str]] = []
    for f in result.findings:
        vid = f.properties.get("vulnerability_id")
        if not vid:
            continue
        found = by_key.get((f.resource.name or "", str(f.properties.get("installed_version")), f.resource.path))
        if found is not None:
            vulns.append((f, found))
    return Inventory(result.target, result.command, os_info, image, packages, tuple(vulns))


def display_target(target: str) -> str:
    """The scanned target as an SBOM names it: a local path by its last part only (an SBOM handed on must
    not carry the scanning machine's directories), with what follows it (` (tag)`); an image reference
    as it is."""
    path, sep, rest = target.partition(" (")
    if path.startswith(("/", "~", "\\")) or (len(path) > 2 and path[1] == ":" and path[2] in "/\\"):
        name = PurePath(path.replace("\\", "/")).name or "root"
        return name + sep + rest
    return target
