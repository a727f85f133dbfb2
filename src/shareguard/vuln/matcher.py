"""Match installed packages against the advisories of their ecosystem (OSV semantics).

Per package: which ecosystem, name and version to look up (OS-managed Python files are left to
the OS advisories; third-party OS packages are not matched against the distro; Debian/Ubuntu/
Alpine advisories name SOURCE packages; conda packages are looked up under their PyPI name).
Candidates come from one indexed query per (ecosystem, name), kept for the scan with each entry's
ranges compiled into one sorted table (`ranges.py`) and all the entries of a name laid out over
their common version keys: a package costs one binary search over cached version keys, a
(package, advisory) pair one list index; each version string is parsed once.
"""

from __future__ import annotations

from bisect import bisect_right
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any, NamedTuple

from shareguard.core.facts import OSInfo, Package
from shareguard.vuln import ecosystems
from shareguard.vuln.ranges import CompiledRange, Verdict, compile_range, distinct_sorted, included, merge_ranges
from shareguard.vuln.store import AffectedRow, VulnStore
from shareguard.vuln.versions import PEP440, InvalidVersion, VersionScheme, scheme_for, scheme_for_range_type

_CANONICAL = {e.lower(): e for e in ecosystems.SUPPORTED}
_EXACT = {**_CANONICAL, **{e: e for e in ecosystems.SUPPORTED}}
"""The names inventories write (`PyPI`, `pypi`): looked up as they are, without splitting a release."""


class Query(NamedTuple):
    """What to look up for one package (a NamedTuple: a scan builds one per package)."""

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


Hit = tuple[str, str | None, str | None, str | None, str]
"""The fields of a Match after (package, query), precomputed per verdict: id, fixed, last affected,
vendor severity, via."""


@dataclass
class MatchStats:
    packages: int = 0
    candidates: int = 0
    """(package, advisory) pairs evaluated."""
    unparsable: list[tuple[str, str, str]] = field(default_factory=list)
    """(ecosystem, name, version) whose version the ecosystem's order cannot parse."""


@dataclass(slots=True)
class _Candidate:
    advisory_id: str
    ecosystem: str
    release: str
    vendor_severity: str | None
    ranges: list[CompiledRange]
    schemes: list[VersionScheme]
    """The order of each range (SEMVER ranges use SemVer whatever the ecosystem)."""
    versions: frozenset[str]
    keys: list[Any] | None
    """The ranges merged (`RangeTable`), with verdicts as Match fields; None when some range uses
    another order than the ecosystem's, which only the general path evaluates."""
    after: list[Hit | None]
    exact: list[Hit | None] | None


_Row = tuple[list[Hit | None], frozenset[str], _Candidate]
"""(verdict of each region of the table's keys, explicit versions, candidate)."""

MAX_TABLE_CELLS = 1_000_000
"""Above this many (candidate, region) cells one name's table is not laid out (a few MB); its
candidates are evaluated range by range instead (e.g. a kernel source package with thousands of
advisories, matched once per image)."""


class _Table(NamedTuple):
    """The candidates that apply to one (ecosystem, name, release), laid out for the hot loop.

    `keys` are the distinct event versions of all of them; a version falls in region `2p` when exactly
    p keys are at or below it and none equals it, in region `2p + 1` when it equals `keys[p - 1]`.
    Each row holds its candidate's verdict for every region, so a pair costs one list index."""

    scheme: VersionScheme
    keys: list[Any]
    rows: list[_Row]
    unique_ids: bool
    """No advisory appears twice (else matches of one advisory are merged)."""
    general: bool
    """Evaluate range by range: some candidate mixes orders, or the table would be too large."""


_new_tuple = tuple.__new__


def canonical_ecosystem(name: str) -> str | None:
    """`pypi` → `PyPI`; `Debian:12` → `Debian`; None when not supported."""
    return _EXACT.get(name) or _CANONICAL.get(ecosystems.split(name)[0].lower())


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
    eco = canonical_ecosystem(pkg.ecosystem)
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
    return _new_tuple(Query, (eco, pkg.name, pkg.version, ""))  # Query(...) without its Python-level __new__


class Matcher:
    """Matches packages against one store; build one per scan (it caches candidates and keys)."""

    def __init__(self, store: VulnStore, os_info: OSInfo | None = None) -> None:
        self.store = store
        self.os_info = os_info
        self.stats = MatchStats()
        self._candidates: dict[tuple[str, str], list[_Candidate]] = {}
        self._tables: dict[tuple[str, str, str], _Table] = {}

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
        own = scheme_for(row.ecosystem) or PEP440
        ranges: list[CompiledRange] = []
        schemes: list[VersionScheme] = []
        for rg in row.ranges:
            scheme = scheme_for_range_type(rg.type, row.ecosystem)
            if scheme is None:
                continue
            try:
                ranges.append(compile_range(rg.events, scheme))
            except InvalidVersion:
                continue  # an event this order cannot place: the explicit versions list still applies
            schemes.append(scheme)
        keys: list[Any] | None = None
        after: list[Hit | None] = []
        exact: list[Hit | None] | None = None
        if all(s is own for s in schemes):
            table = merge_ranges(ranges)
            keys = table.keys
            after = [self._hit(row, v) for v in table.after]
            exact = None if table.exact is None else [self._hit(row, v) for v in table.exact]
        return _Candidate(
            row.advisory_id,
            row.ecosystem,
            row.release,
            row.vendor_severity,
            ranges,
            schemes,
            frozenset(row.versions),
            keys,
            after,
            exact,
        )

    @staticmethod
    def _hit(row: AffectedRow, verdict: Verdict | None) -> Hit | None:
        return None if verdict is None else (row.advisory_id, verdict[0], verdict[1], row.vendor_severity, "range")

    def _table(self, query: Query) -> _Table:
        release = query.release
        cands = [
            c
            for c in self.candidates(query.ecosystem, query.name)
            if not c.release or ecosystems.release_matches(c.ecosystem, c.release, release)
        ]
        keys = distinct_sorted([k for c in cands for k in c.keys or ()])
        general = any(c.keys is None for c in cands) or len(cands) * (2 * len(keys) + 2) > MAX_TABLE_CELLS
        table = _Table(
            scheme=scheme_for(query.ecosystem) or PEP440,
            keys=keys,
            rows=[([] if general else _regions(c, keys), c.versions, c) for c in cands],
            unique_ids=len({c.advisory_id for c in cands}) == len(cands),
            general=general,
        )
        self._tables[(query.ecosystem, query.name, release)] = table
        return table

    def match(self, pkg: Package, query: Query | None = None) -> list[Match]:
        query = query or query_for(pkg, self.os_info)
        if query is None:
            return []
        eco, name, raw, release = query
        table = self._tables.get((eco, name, release)) or self._table(query)
        scheme, keys, rows, unique_ids, general = table
        stats = self.stats
        stats.packages += 1
        stats.candidates += len(rows)
        try:
            installed: Any = scheme.key(raw)
        except InvalidVersion:
            installed = None
            stats.unparsable.append((eco, name, raw))
        if not rows:
            return []
        # PEP 440: `2.3.0+cu121` is release 2.3.0 with a local label; explicit lists name public versions.
        public = raw.split("+", 1)[0] if scheme is PEP440 and "+" in raw else raw
        head = (pkg, query)
        out: list[Match] = []
        if general or installed is None:
            for *_, cand in rows:
                hit = _general_hit(cand, raw, public, installed, scheme)
                if hit is not None:
                    out.append(_new_tuple(Match, head + hit))
        else:
            p = bisect_right(keys, installed)
            region = 2 * p + 1 if p and keys[p - 1] == installed else 2 * p
            # The hot loop of a scan: one list index per (package, advisory) pair, no calls.
            for verdicts, versions, cand in rows:
                hit = verdicts[region]
                if hit is not None:
                    out.append(_new_tuple(Match, head + hit))
                elif raw in versions or (public is not raw and public in versions):
                    # Listed explicitly (e.g. a yanked release outside every range): report the next fix if known.
                    out.append(_listed(pkg, query, cand, _next_fix(cand, installed, scheme)))
        return out if unique_ids else _merge_same_advisory(out, scheme)


def _regions(cand: _Candidate, keys: list[Any]) -> list[Hit | None]:
    """The candidate's verdict in every region of a table's keys (a superset of its own keys)."""
    own, after, exact = cand.keys or [], cand.after, cand.exact
    out: list[Hit | None] = [after[0], None]  # region 1 (no key at or below, yet equal to one) cannot occur
    for k in keys:
        q = bisect_right(own, k)  # the candidate's own keys at or below k, and so below the next region
        out.append(after[q])  # above k, below the next key
        out.append(exact[q - 1] if exact is not None and q and own[q - 1] == k else after[q])  # equal to k
    return out


def _listed(pkg: Package, query: Query, cand: _Candidate, fixed: str | None) -> Match:
    return Match(pkg, query, cand.advisory_id, fixed, None, cand.vendor_severity, "versions")


def _general_hit(cand: _Candidate, raw: str, public: str, installed: Any, own: VersionScheme) -> Hit | None:
    """One pair evaluated range by range, each in its own order (the ecosystem's unless a SEMVER range)."""
    if installed is not None:
        for rg, scheme in zip(cand.ranges, cand.schemes, strict=True):
            v = installed if scheme is own else _key_or_none(scheme, raw)
            verdict = None if v is None else included(v, rg)
            if verdict is not None:
                return (cand.advisory_id, verdict[0], verdict[1], cand.vendor_severity, "range")
    if raw not in cand.versions and public not in cand.versions:
        return None
    return (cand.advisory_id, _next_fix(cand, installed, own), None, cand.vendor_severity, "versions")


def _key_or_none(scheme: VersionScheme, raw: str) -> Any:
    try:
        return scheme.key(raw)
    except InvalidVersion:
        return None


def _merge_same_advisory(matches: list[Match], scheme: VersionScheme) -> list[Match]:
    """Several affected entries of one advisory for one package: one match, the highest fix."""
    by_id: dict[str, Match] = {}
    for m in matches:
        prev = by_id.get(m.advisory_id)
        if prev is not None:
            fixed = _max_fix(scheme, prev.fixed_version, m.fixed_version)
            m = m._replace(fixed_version=fixed, last_affected=m.last_affected or prev.last_affected)
        by_id[m.advisory_id] = m
    return list(by_id.values())


def _next_fix(cand: _Candidate, installed: Any, own: VersionScheme) -> str | None:
    """The lowest fix above the installed version, among the ranges in the ecosystem's own order."""
    if installed is None:
        return None
    later = [
        f for rg, s in zip(cand.ranges, cand.schemes, strict=True) if s is own for f in rg.fixes if installed < f[0]
    ]
    return min(later, key=lambda f: f[0])[1] if later else None


def _max_fix(scheme: VersionScheme, a: str | None, b: str | None) -> str | None:
    if a is None or b is None:
        return a or b
    try:
        return a if scheme.key(a) >= scheme.key(b) else b
    except InvalidVersion:
        return a
