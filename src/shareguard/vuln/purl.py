"""Package URLs for VEX matching (`package_purl`, which the SBOM writers need too, lives in `core.purl`)."""

from __future__ import annotations

from packageurl import PackageURL

from shareguard.core.purl import package_purl as package_purl  # moved to the core; kept importable here


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
