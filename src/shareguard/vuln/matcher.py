"""Match installed packages against the advisories of their ecosystem (OSV semantics).

Per package: which ecosystem, name and version to look up (OS-managed Python files are left to
the OS advisories; third-party OS packages are not matched against the distro; Debian/Ubuntu/
Alpine advisories name SOURCE packages; conda packages are looked up under their PyPI name).
Candidates come from one indexed query per (ecosystem, name), kept for the scan; each range's
events are parsed and sorted once, and each version string is parsed once (cached keys).
"""

from __future__ import annotations

from bisect import bisect_right
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any, NamedTuple

from shareguard.core.facts import OSInfo, Package
from shareguard.vuln import ecosystems
from shareguard.vuln.store import AffectedRow, VulnStore
from shareguard.vuln.versions import PEP440, InvalidVersion, VersionScheme, scheme_for, scheme_for_range_type

_CANONICAL = {e.lower(): e for e in ecosystems.SUPPORTED}


@dataclass(frozen=True)
class Query:
    """What to look up for one package."""

    ecosystem: str
    """Base OSV ecosystem of the advisories (`PyPI` for a conda package with a PyPI name)."""
    name: str
    version: str
    release: str
    """The OS release (VERSION_ID) for release-scoped ecosystems."""


class Match(NamedTuple):
    """One (package, advisory) hit. A NamedTuple: a scan makes many, and they are cheap to build."""

    package: Package
    query: Query
    advisory_id: str
    fixed_version: str | None
    last_affected: str | None
    vendor_severity: str | None
    via: str
    """`range` or `versions` (the advisory's explicit list)."""

    @property
    def unfixed(self) -> bool:
        """No fix is known (neither a fixed version nor a last affected one to move past)."""
        return self.fixed_version is None and self.last_affected is None


@dataclass
class MatchStats:
    packages: int = 0
    candidates: int = 0
    """(package, advisory) pairs evaluated."""
    unparsable: list[tuple[str, str, str]] = field(default_factory=list)
    """(ecosystem, name, version) whose version the ecosystem's order cannot parse."""


Verdict = tuple[str | None, str | None]
"""(next fixed version, last affected version) of an affected stretch."""


@dataclass(slots=True)
class _Range:
    """One OSV range, compiled. The spec's loop over sorted events is a state machine; its outcome
    once exactly the first p events are at or below the version is precomputed for every p, so
    evaluating a version is one binary search over cached keys (C-level tuple comparisons)."""

    keys: list[Any]
    """Sorted keys of the events with a real version (an introduced "0" applies before them)."""
    kinds: list[str]
    verdicts: list[Verdict | None]
    """verdicts[p]: the outcome when exactly the first p events are at or below the version."""
    limits: list[Any]
    """Keys of limit events (None for "*"); empty means no limit."""
    fixes: list[tuple[Any, str]]
    """(key, raw) of every fixed event, for versions matched through the explicit list."""


@dataclass(slots=True)
class _Candidate:
    advisory_id: str
    ecosystem: str
    release: str
    vendor_severity: str | None
    ranges: list[_Range]
    versions: frozenset[str]


def canonical_ecosystem(name: str) -> str | None:
    """`pypi` → `PyPI`; `Debian:12` → `Debian`; None when not supported."""
    return _CANONICAL.get(ecosystems.split(name)[0].lower())


def os_release(pkg: Package, os_info: OSInfo | None) -> str:
    """The distro release of an OS package: its ecosystem's suffix (`Debian:12`, set by the inventory),
    else the purl's `distro` qualifier, else the scanned OS's VERSION_ID."""
    _base, release = ecosystems.split(pkg.ecosystem)
    if release:
        return release
    if pkg.purl and "distro=" in pkg.purl:
        from_purl = _release_of_purl(pkg.purl)
        if from_purl:
            return from_purl
    return os_info.version_id if os_info else ""


@lru_cache(maxsize=65536)
def _release_of_purl(purl: str) -> str | None:
    """`…?distro=debian-12` → `12` (cached: every package of an image carries the same qualifier)."""
    from packageurl import PackageURL

    try:
        distro = PackageURL.from_string(purl).qualifiers.get("distro")
    except ValueError:
        return None
    if isinstance(distro, str) and distro:
        tail = distro.rsplit("-", 1)[-1]
        if tail[:1].isdigit() or tail.startswith("v"):
            return tail.lstrip("v")
    return None


def query_for(pkg: Package, os_info: OSInfo | None) -> Query | None:
    """What advisories a package is matched against; None when it must not be matched at all."""
    eco = canonical_ecosystem(ecosystems.split(pkg.ecosystem)[0])
    if eco is None or not pkg.version:
        return None
    if eco == "conda":
        pypi = dict(pkg.extra).get("pypi_name")
        return Query("PyPI", pypi, pkg.version, "") if pypi else None
    if eco in ecosystems.DISTRO_ECOSYSTEMS:
        if pkg.origin == "third-party":
            return None  # e.g. NVIDIA's CUDA apt repo: the distro's advisories do not describe it
        return Query(eco, pkg.source_name or pkg.name, pkg.source_version or pkg.version, os_release(pkg, os_info))
    if pkg.os_managed:
        return None  # a Debian python3-* file: its dpkg package is matched against the OS advisories
    return Query(eco, pkg.name, pkg.version, "")


class Matcher:
    """Matches packages against one store; build one per scan (it caches candidates and keys)."""

    def __init__(self, store: VulnStore, os_info: OSInfo | None = None) -> None:
        self.store = store
        self.os_info = os_info
        self.stats = MatchStats()
        self._candidates: dict[tuple[str, str], list[_Candidate]] = {}

    def candidates(self, ecosystem: str, name: str) -> list[_Candidate]:
        found = self._candidates.get((ecosystem, name))
        if found is None:
            key = (ecosystem, ecosystems.normalise_name(ecosystem, name))
            found = self._candidates.get(key)
            if found is None:
                found = [self._prepare(row) for row in self.store.affected_for(*key)]
                self._candidates[key] = found
            self._candidates[(ecosystem, name)] = found
        return found

    def _prepare(self, row: AffectedRow) -> _Candidate:
        ranges: list[_Range] = []
        for rg in row.ranges:
            scheme = scheme_for_range_type(rg.type, row.ecosystem)
            if scheme is None:
                continue
            try:
                ranges.append(_parse_range(rg.events, scheme))
            except InvalidVersion:
                continue  # an event this order cannot place: the explicit versions list still applies
        return _Candidate(
            row.advisory_id, row.ecosystem, row.release, row.vendor_severity, ranges, frozenset(row.versions)
        )

    def match(self, pkg: Package, query: Query | None = None) -> list[Match]:
        query = query or query_for(pkg, self.os_info)
        if query is None:
            return []
        self.stats.packages += 1
        scheme = scheme_for(query.ecosystem) or PEP440
        raw = query.version
        try:
            installed: Any = scheme.key(raw)
        except InvalidVersion:
            installed = None
            self.stats.unparsable.append((query.ecosystem, query.name, raw))
        # PEP 440: `2.3.0+cu121` is release 2.3.0 with a local label; explicit lists name public versions.
        public = raw.split("+", 1)[0] if scheme is PEP440 else raw
        release = query.release
        by_id: dict[str, Match] = {}
        evaluated = 0
        # The hot loop of a scan: kept flat (no per-candidate calls beyond the range check).
        for cand in self.candidates(query.ecosystem, query.name):
            if cand.release and not ecosystems.release_matches(cand.ecosystem, cand.release, release):
                continue
            evaluated += 1
            verdict = None
            via = "range"
            if installed is not None:
                for rg in cand.ranges:
                    if rg.limits:
                        verdict = _included(installed, rg)
                    else:  # _included inlined for the common case (no limit events)
                        keys = rg.keys
                        p = bisect_right(keys, installed)
                        while p and rg.kinds[p - 1] == "last_affected" and keys[p - 1] == installed:
                            p -= 1
                        verdict = rg.verdicts[p]
                    if verdict is not None:
                        break
            if verdict is None:
                if raw not in cand.versions and public not in cand.versions:
                    continue
                # Listed explicitly (e.g. a yanked release outside every range): report the next fix if known.
                verdict, via = (_next_fix(cand, installed), None), "versions"
            fixed, last = verdict
            adv_id = cand.advisory_id
            prev = by_id.get(adv_id)
            if prev is not None:
                fixed = _max_fix(scheme, prev.fixed_version, fixed)
                last = last or prev.last_affected
            by_id[adv_id] = Match(pkg, query, adv_id, fixed, last, cand.vendor_severity, via)
        self.stats.candidates += evaluated
        return list(by_id.values())


def _included(v: Any, rg: _Range) -> Verdict | None:
    """OSV's IncludedInRanges (with BeforeLimits) for one range: None if not affected."""
    if rg.limits and not any(lim is None or v < lim for lim in rg.limits):
        return None
    keys = rg.keys
    p = bisect_right(keys, v)
    # `last_affected` is inclusive: one equal to the version has not taken effect yet.
    while p and rg.kinds[p - 1] == "last_affected" and keys[p - 1] == v:
        p -= 1
    return rg.verdicts[p]


def _parse_range(events: tuple[tuple[str, str], ...], scheme: VersionScheme) -> _Range:
    zero = False
    limits: list[Any] = []
    real: list[tuple[Any, str, str]] = []
    for kind, raw in events:
        if kind == "introduced" and raw == "0":
            zero = True  # sorts before every version
        elif kind == "limit":
            limits.append(None if "*" in raw else scheme.key(raw))
        else:
            real.append((scheme.key(raw), kind, raw))
    ordered = sorted(real, key=lambda e: e[0])  # stable: equal versions keep the document's order
    # The spec's loop, run once: the state after each prefix of the sorted events is that prefix's verdict.
    vulnerable, opened = zero, -1
    verdicts: list[Verdict | None] = [_boundary(ordered, opened) if vulnerable else None]
    for i, (_k, kind, _raw) in enumerate(ordered):
        if kind == "introduced":
            vulnerable, opened = True, i
        elif kind in ("fixed", "last_affected"):  # in a prefix the version is above any last_affected
            vulnerable = False
        verdicts.append(_boundary(ordered, opened) if vulnerable else None)
    return _Range(
        keys=[e[0] for e in ordered],
        kinds=[e[1] for e in ordered],
        verdicts=verdicts,
        limits=limits,
        fixes=[(k, raw) for k, kind, raw in ordered if kind == "fixed"],
    )


def _boundary(ordered: list[tuple[Any, str, str]], opened: int) -> Verdict:
    """The first fixed / last_affected event after the introduced event that opened the stretch."""
    for _k, kind, raw in ordered[opened + 1 :]:
        if kind == "fixed":
            return raw, None
        if kind == "last_affected":
            return None, raw
        if kind == "introduced":
            break
    return None, None


def _next_fix(cand: _Candidate, installed: Any) -> str | None:
    if installed is None:
        return None
    fixes = [f for rg in cand.ranges for f in rg.fixes]
    later = [f for f in fixes if installed < f[0]]
    return min(later, key=lambda f: f[0])[1] if later else None


def _max_fix(scheme: VersionScheme, a: str | None, b: str | None) -> str | None:
    if a is None or b is None:
        return a or b
    try:
        return a if scheme.key(a) >= scheme.key(b) else b
    except InvalidVersion:
        return a
