"""Package URLs for inventory packages (the SBOM writers and VEX matching both need them)."""

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


def same_package(product: str, purl: str) -> bool:
    """Does a VEX product purl name this package? A product without version or qualifiers names
    every version; given qualifiers must all be present with the same values."""
    try:
        p = PackageURL.from_string(product)
        q = PackageURL.from_string(purl)
    except ValueError:
        return False
    same = (p.type, (p.namespace or "").lower(), p.name.lower()) == (
        q.type,
        (q.namespace or "").lower(),
        q.name.lower(),
    )
    if not same and not (p.type == q.type == "pypi" and _pep503(p.name) == _pep503(q.name)):
        return False
    if p.version and p.version != q.version:
        return False
    pq = p.qualifiers if isinstance(p.qualifiers, dict) else {}
    qq = q.qualifiers if isinstance(q.qualifiers, dict) else {}
    return all(qq.get(k) == v for k, v in pq.items())


def _pep503(name: str) -> str:
    import re

    return re.sub(r"[-_.]+", "-", name).lower()
