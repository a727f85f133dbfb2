"""Match installed packages against the advisories of their ecosystem (OSV semantics).

Per package: which ecosystem, name and version to look up (OS-managed Python files are left to
the OS advisories; third-party OS packages are not matched against the distro; Debian/Ubuntu/
Alpine advisories name SOURCE packages; conda packages are looked up under their PyPI name).
Candidates come from one indexed query per (ecosystem, name), kept for the scan; each range's
events are parsed and sorted once, and each version string is parsed once (cached keys).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from shareguard.core.facts import OSInfo, Package
from shareguard.vuln import ecosystems
from shareguard.vuln.store import AffectedRow, VulnStore
from shareguard.vuln.versions import PEP440, InvalidVersion, VersionScheme, scheme_for, scheme_for_range_type

_CANONICAL = {e.lower(): e for e in ecosystems.SUPPORTED}
_MIN = 0  # sort ranks: introduced "0" sorts before every version; real versions after it
_MID = 1


@dataclass(frozen=True)
class Query:
    """What to look up for one package."""

    ecosystem: str
    """Base OSV ecosystem of the advisories (`PyPI` for a conda package with a PyPI name)."""
    name: str
    version: str
    release: str
    """The OS release (VERSION_ID) for release-scoped ecosystems."""


@dataclass(frozen=True)
class Match:
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
    comparisons: int = 0
    unparsable: list[tuple[str, str, str]] = field(default_factory=list)
    """(ecosystem, name, version) whose version the ecosystem's order cannot parse."""


@dataclass
class _Range:
    events: list[tuple[str, int, Any, str]]
    """(kind, rank, key, raw) sorted by version."""
    limits: list[Any]
    """Keys of limit events (None for "*"); empty means no limit."""


@dataclass
class _Candidate:
    row: AffectedRow
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
        from packageurl import PackageURL

        try:
            distro = PackageURL.from_string(pkg.purl).qualifiers.get("distro")
        except ValueError:
            distro = None
        if isinstance(distro, str) and distro:
            tail = distro.rsplit("-", 1)[-1]
            if tail[:1].isdigit() or tail.startswith("v"):
                return tail.lstrip("v")
    return os_info.version_id if os_info else ""


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
        key = (ecosystem, ecosystems.normalise_name(ecosystem, name))
        found = self._candidates.get(key)
        if found is None:
            found = [self._prepare(row) for row in self.store.affected_for(*key)]
            self._candidates[key] = found
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
        return _Candidate(row, ranges, frozenset(row.versions))

    def match(self, pkg: Package, query: Query | None = None) -> list[Match]:
        query = query or query_for(pkg, self.os_info)
        if query is None:
            return []
        self.stats.packages += 1
        scheme = scheme_for(query.ecosystem) or PEP440
        try:
            installed: Any = scheme.key(query.version)
        except InvalidVersion:
            installed = None
            self.stats.unparsable.append((query.ecosystem, query.name, query.version))
        public = _public(installed, query.version)
        by_id: dict[str, Match] = {}
        for cand in self.candidates(query.ecosystem, query.name):
            row = cand.row
            if not ecosystems.release_matches(row.ecosystem, row.release, query.release):
                continue
            self.stats.candidates += 1
            hit = self._evaluate(cand, installed, query.version, public)
            if hit is None:
                continue
            via, fixed, last = hit
            prev = by_id.get(row.advisory_id)
            if prev is not None:
                fixed = _max_fix(scheme, prev.fixed_version, fixed)
                last = last or prev.last_affected
            by_id[row.advisory_id] = Match(pkg, query, row.advisory_id, fixed, last, row.vendor_severity, via)
        return list(by_id.values())

    def _evaluate(
        self, cand: _Candidate, installed: Any, raw: str, public: str
    ) -> tuple[str, str | None, str | None] | None:
        in_list = raw in cand.versions or public in cand.versions
        if installed is not None:
            for rg in cand.ranges:
                verdict = self._in_range(installed, rg)
                if verdict is not None:
                    return ("range", *verdict)
        if in_list:
            # Listed explicitly (e.g. a yanked release outside every range): report the next fix if one is known.
            return ("versions", _next_fix(cand, installed), None)
        return None

    def _in_range(self, v: Any, rg: _Range) -> tuple[str | None, str | None] | None:
        """OSV's IncludedInRanges for one range: None if not affected, else (next fix, last affected)."""
        if rg.limits:
            self.stats.comparisons += len(rg.limits)
            if not any(lim is None or v < lim for lim in rg.limits):
                return None
        vulnerable = False
        opened = 0  # index of the introduced event that made it vulnerable
        events = rg.events
        for i, (kind, rank, k, _raw) in enumerate(events):
            if rank == _MIN:
                if kind == "introduced":
                    vulnerable, opened = True, i
                continue
            self.stats.comparisons += 1
            if v < k:
                break  # events are sorted: nothing later can change the verdict
            if kind == "introduced":
                vulnerable, opened = True, i
            elif kind == "fixed" or (kind == "last_affected" and v > k):
                vulnerable = False
        if not vulnerable:
            return None
        # The first boundary after the opening event is what ends this vulnerable stretch.
        for kind, _rank, _k, raw in events[opened + 1 :]:
            if kind == "fixed":
                return raw, None
            if kind == "last_affected":
                return None, raw
            if kind == "introduced":
                break
        return None, None


def _parse_range(events: tuple[tuple[str, str], ...], scheme: VersionScheme) -> _Range:
    parsed: list[tuple[str, int, Any, str]] = []
    limits: list[Any] = []
    for kind, raw in events:
        if kind == "introduced" and raw == "0":
            parsed.append((kind, _MIN, None, raw))
        elif kind == "limit":
            limits.append(None if "*" in raw else scheme.key(raw))
        else:
            parsed.append((kind, _MID, scheme.key(raw), raw))
    lows = [e for e in parsed if e[1] == _MIN]
    mids = sorted((e for e in parsed if e[1] == _MID), key=lambda e: e[2])
    return _Range(lows + mids, limits)


def _public(key: Any, raw: str) -> str:
    """PEP 440: `2.3.0+cu121` is release 2.3.0 with a local label; explicit lists name public versions."""
    public = getattr(key, "public", None)
    return public if isinstance(public, str) else raw


def _next_fix(cand: _Candidate, installed: Any) -> str | None:
    if installed is None:
        return None
    fixes = [(k, raw) for rg in cand.ranges for kind, rank, k, raw in rg.events if kind == "fixed" and rank == _MID]
    later = [f for f in fixes if installed < f[0]]
    return min(later, key=lambda f: f[0])[1] if later else None


def _max_fix(scheme: VersionScheme, a: str | None, b: str | None) -> str | None:
    if a is None or b is None:
        return a or b
    try:
        return a if scheme.key(a) >= scheme.key(b) else b
    except InvalidVersion:
        return a
