"""Packages from third-party repositories (NVIDIA's CUDA repo, Docker, NodeSource…): origin `third-party`,
extra `vendor`, and a purl namespace naming the vendor. Rules are data (`data/vendors.yaml`); apt sources
that point at a vendor's repository are extra evidence (and recorded as extra `repository`)."""

from __future__ import annotations

import fnmatch
import functools
import re
from typing import Any

from packageurl import PackageURL

from shareguard.core.facts import Fact, Package
from shareguard.image.analyzers._common import load_data
from shareguard.image.analyzers.finalizers._util import extra_value, merged_os, with_extra
from shareguard.image.analyzers.rpm import DB_PATHS
from shareguard.image.facts import AptSource

_VENDORS = "vendors.yaml"
_OS = "os_ecosystems.yaml"


_NEVER = re.compile(r"(?!)")


@functools.lru_cache(maxsize=256)
def _glob_set(globs: tuple[str, ...]) -> re.Pattern[str]:
    """One compiled pattern for a rule's globs (fnmatchcase semantics), built once per glob list."""
    return re.compile("|".join(fnmatch.translate(g) for g in globs)) if globs else _NEVER


def _any_glob(name: str, globs: list[str]) -> bool:
    return _glob_set(tuple(globs)).match(name) is not None


def dpkg_vendor(pkg: Package, vendors: list[dict[str, Any]], repos: dict[str, str]) -> tuple[str, str | None] | None:
    """(vendor id, repository URL or None) when a vendor rule claims this dpkg package."""
    maintainer = extra_value(pkg, "maintainer") or ""
    for v in vendors:
        repo = repos.get(v["id"])
        if (
            any(m in maintainer for m in v.get("maintainers") or [])
            or any(m in pkg.version for m in v.get("version_markers") or [])
            or _any_glob(pkg.name, v.get("names") or [])
            or (repo is not None and _any_glob(pkg.name, v.get("names_if_repo") or []))
        ):
            return v["id"], repo
    return None


def rpm_vendor(pkg: Package, vendors: list[dict[str, Any]], distro_vendors: list[str]) -> str | None:
    vendor_tag = extra_value(pkg, "vendor") or ""
    if not vendor_tag:
        return None
    for v in vendors:
        if any(m in vendor_tag for m in v.get("rpm_vendors") or []):
            return str(v["id"])
    if distro_vendors and not any(d in vendor_tag for d in distro_vendors):
        return vendor_tag.split(",")[0].split("<")[0].strip().lower().replace(" ", "-") or None
    return None


def vendor_repositories(facts: list[Fact], vendors: list[dict[str, Any]]) -> dict[str, str]:
    found: dict[str, str] = {}
    for fact in facts:
        if isinstance(fact, AptSource):
            for v in vendors:
                if v["id"] not in found and any(host in fact.url for host in v.get("repositories") or []):
                    found[v["id"]] = fact.url
    return found


def _vendor_purl(purl: str | None, vendor: str) -> str | None:
    if not purl:
        return purl
    parsed = PackageURL.from_string(purl)
    return str(
        PackageURL(parsed.type, vendor, parsed.name, parsed.version, parsed.qualifiers, parsed.subpath).to_string()
    )


class ThirdPartyFinalizer:
    name = "inventory.third-party"
    order = 30

    def finalize(self, facts: list[Fact], files: dict[str, str | None]) -> list[Fact]:
        vendors: list[dict[str, Any]] = load_data(_VENDORS)["vendors"]
        repos = vendor_repositories(facts, vendors)
        info = merged_os(list(facts))
        distro_vendors: list[str] = load_data(_OS)["rpm_vendors"].get(info.id, []) if info else []
        out: list[Fact] = []
        for fact in facts:
            if isinstance(fact, Package) and fact.origin == "os":
                vendor: str | None = None
                repo: str | None = None
                if fact.path.startswith("var/lib/dpkg/"):
                    hit = dpkg_vendor(fact, vendors, repos)
                    if hit:
                        vendor, repo = hit
                elif fact.path in DB_PATHS:
                    vendor = rpm_vendor(fact, vendors, distro_vendors)
                if vendor:
                    pairs = {"vendor": vendor} | ({"repository": repo} if repo else {})
                    fact = with_extra(fact, pairs, origin="third-party", purl=_vendor_purl(fact.purl, vendor))
            out.append(fact)
        return out
