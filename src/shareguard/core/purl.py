"""Package URLs of inventory packages: the fact's own purl, else one built from its ecosystem, name and version.

In the core because both the vulnerability matcher (VEX products) and the SBOM writers name packages by purl,
and a report must not import an analysis capability to do it.
"""

from __future__ import annotations

from packageurl import PackageURL

from shareguard.core.facts import OSInfo, Package

_TYPES = {
    "pypi": ("pypi", None),
    "npm": ("npm", None),
    "conda": ("conda", None),
    "debian": ("deb", "debian"),
    "ubuntu": ("deb", "ubuntu"),
    "alpine": ("apk", "alpine"),
    "red hat": ("rpm", "redhat"),
    "almalinux": ("rpm", "almalinux"),
    "rocky linux": ("rpm", "rocky"),
    "opensuse": ("rpm", "opensuse"),
    "suse": ("rpm", "suse"),
}


def package_purl(pkg: Package, os_info: OSInfo | None = None) -> str | None:
    """The package's own purl if the inventory set one, else one built from ecosystem/name/version."""
    if pkg.purl:
        return pkg.purl
    spec = _TYPES.get(pkg.ecosystem.split(":", 1)[0].strip().lower())  # `Debian:12` → debian
    if spec is None or not pkg.name:
        return None
    ptype, namespace = spec
    name = pkg.name
    if ptype == "npm" and name.startswith("@") and "/" in name:
        namespace, name = name.split("/", 1)
    qualifiers: dict[str, str] = {}
    if pkg.arch:
        qualifiers["arch"] = pkg.arch
    if namespace in ("debian", "ubuntu", "alpine") and os_info and os_info.version_id:
        qualifiers["distro"] = f"{os_info.id}-{os_info.version_id}"
    try:
        return PackageURL(
            type=ptype, namespace=namespace, name=name, version=pkg.version or None, qualifiers=qualifiers
        ).to_string()
    except ValueError:
        return None
