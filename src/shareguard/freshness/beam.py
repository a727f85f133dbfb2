"""Apache Beam SDK releases and Dataflow's support status for them: a table naming its sources and date
(`data/beam.yaml`), imported into the release catalog as `dataflow-sdk` records (GA = release date, end of
patch = Dataflow deprecation date, end of availability = decommission date), and the one judgement of an SDK
version that both the catalog and the configuration audit's DATAFLOW-005 use."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from typing import Any

from packaging.version import InvalidVersion, Version

from shareguard.core.errors import CatalogError
from shareguard.core.settings import Budgets
from shareguard.freshness.dates import months_after, parse_date
from shareguard.freshness.model import CatalogSource, Release, ReleaseCatalog
from shareguard.posture.parsers.yaml_safe import load_one

KIND = "beam-dataflow-sdk"
PRODUCT = "dataflow-sdk"
FRAMEWORK = "beam"
MAX_BYTES = 1024 * 1024
_TOP = frozenset({"kind", "source", "also", "retrieved", "support_months", "releases"})
_ENTRY = frozenset({"version", "released", "deprecated", "decommissioned", "patches"})
_VERSION = re.compile(r"\d+\.\d+\.\d+")


def is_table(text: str) -> bool:
    return bool(re.search(rf"(?m)^kind:\s*[\"']?{KIND}[\"']?\s*$", text))


def _date(value: Any, where: str) -> date | None:
    return None if value in (None, "") else parse_date(value, where)


def parse_table(text: str, origin: str) -> tuple[CatalogSource, list[Release]]:
    """The table as catalog records; any malformed entry raises naming the file and entry."""
    doc = load_one(text, origin, Budgets(max_config_bytes=MAX_BYTES, max_yaml_nodes=50_000, max_depth=20)).value
    if not isinstance(doc, dict) or doc.get("kind") != KIND:
        raise CatalogError(f"expected a mapping with kind: {KIND}", path=origin)
    unknown = sorted(str(k) for k in doc if k not in _TOP)
    if unknown:
        raise CatalogError(f"unknown field(s) {', '.join(unknown)}", path=origin)
    retrieved = _date(doc.get("retrieved"), f"{origin}: retrieved")
    if retrieved is None:
        raise CatalogError("retrieved date missing", path=origin)
    months = doc.get("support_months")
    if months is not None and (not isinstance(months, int) or isinstance(months, bool) or months <= 0):
        raise CatalogError("support_months: a positive integer", path=origin)
    entries = doc.get("releases")
    if not isinstance(entries, list):
        raise CatalogError("releases: a list is required", path=origin)
    source = CatalogSource(name=KIND, url=str(doc.get("source") or ""), retrieved=retrieved, revision=str(retrieved))
    out: list[Release] = []
    seen: set[str] = set()
    for i, e in enumerate(entries):
        where = f"{origin}: releases[{i}]"
        if not isinstance(e, dict):
            raise CatalogError("expected a mapping", path=where)
        bad = sorted(str(k) for k in e if k not in _ENTRY)
        if bad:
            raise CatalogError(f"unknown field(s) {', '.join(bad)}", path=where)
        version = str(e.get("version") or "")
        if not _VERSION.fullmatch(version):
            raise CatalogError(f"version {version!r}: MAJOR.MINOR.PATCH required", path=where)
        if version in seen:
            raise CatalogError(f"duplicate entry: {version}", path=where)
        seen.add(version)
        released = _date(e.get("released"), where)
        deprecated = _date(e.get("deprecated"), where)
        decommissioned = _date(e.get("decommissioned"), where)
        if released and released > retrieved:
            raise CatalogError(f"impossible date: released {released} after the table's date {retrieved}", path=where)
        if released and deprecated and deprecated <= released:
            raise CatalogError(f"impossible dates: deprecated {deprecated} is not after release {released}", path=where)
        if deprecated and decommissioned and decommissioned < deprecated:
            raise CatalogError(
                f"impossible dates: decommissioned {decommissioned} is before deprecation {deprecated}", path=where
            )
        derived = deprecated is None and released is not None and months is not None
        if derived and released is not None and isinstance(months, int):
            deprecated = months_after(released, months)
        patches = e.get("patches") or []
        if not isinstance(patches, list) or not all(isinstance(p, str) and _VERSION.fullmatch(p) for p in patches):
            raise CatalogError("patches: a list of MAJOR.MINOR.PATCH versions", path=where)
        major, minor, _ = version.split(".")
        out.append(
            Release(
                provider="google",
                product=PRODUCT,
                repository="apache-beam",
                framework=FRAMEWORK,
                version=f"{major}.{minor}",
                ga=released,
                eop=deprecated,
                eoa=decommissioned,
                tags=(*sorted(patches, key=Version, reverse=True), version),
                origin=f"{where} (deprecation {'derived: released + support_months' if derived else 'as published'})",
            )
        )
    return source, out


@dataclass(frozen=True)
class SdkSupport:
    """Dataflow's support of one Beam SDK version at a date."""

    version: str
    status: str
    """`supported`, `deprecated`, `decommissioned` or `unknown` (not in the catalog: never taken as supported)."""
    detail: str
    release: Release | None = None


def _releases(catalog: ReleaseCatalog) -> list[Release]:
    return sorted(
        (r for r in catalog.by_framework.get(FRAMEWORK, []) if r.product == PRODUCT), key=lambda r: r.line_key
    )


def sdk_support(version: str, catalog: ReleaseCatalog, today: date) -> SdkSupport:
    """Judge a Beam SDK version against the catalog's Dataflow support dates at `today`."""
    try:
        ver = Version(version)
    except InvalidVersion:
        return SdkSupport(version, "unknown", f"{version!r} is not a Beam SDK version")
    lines = _releases(catalog)
    if not lines:
        return SdkSupport(version, "unknown", "the release catalog holds no Beam SDK releases")
    line = f"{ver.major}.{ver.minor}"
    release = next((r for r in lines if r.version == line), None)
    if release is None:
        oldest = lines[0]
        if ver.release[:2] < Version(oldest.tags[-1]).release[:2] and oldest.eop and oldest.eop <= today:
            return SdkSupport(
                version,
                "deprecated",
                f"older than {oldest.tags[-1]}, the oldest release listed, itself deprecated on {oldest.eop}",
                None,
            )
        return SdkSupport(version, "unknown", f"Beam SDK {version} is not in the release catalog")
    if release.eoa and release.eoa <= today:
        return SdkSupport(version, "decommissioned", f"decommissioned on Dataflow since {release.eoa}", release)
    if release.eop and release.eop <= today:
        return SdkSupport(version, "deprecated", f"deprecated on Dataflow since {release.eop}", release)
    if release.eop is None:
        return SdkSupport(version, "unknown", f"no deprecation date known for Beam SDK {line}", release)
    return SdkSupport(version, "supported", f"supported on Dataflow until {release.eop}", release)


def newest_supported(catalog: ReleaseCatalog, today: date) -> str | None:
    """The newest listed release Dataflow still supports at `today` (the version to move to)."""
    ok = [r for r in _releases(catalog) if r.eop and r.eop > today and not (r.eoa and r.eoa <= today)]
    return ok[-1].tags[0] if ok else None
