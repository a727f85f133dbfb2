"""The OSV matcher as a post analyzer: Package facts in, one finding per (package, advisory) out."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Iterator
from pathlib import Path

from shareguard.core.analyzer import Output
from shareguard.core.context import ScanContext
from shareguard.core.coverage import Evaluation, Gap, Unassessed
from shareguard.core.errors import ShareguardError
from shareguard.core.facts import Fact, FactStore, ImageIdentity, OSInfo, Package
from shareguard.core.finding import Finding, SeveritySource, Status
from shareguard.core.resource import Location, Resource
from shareguard.core.rules import RuleMeta, load_package_rules
from shareguard.vuln import ecosystems
from shareguard.vuln.database import describe, open_for_scan
from shareguard.vuln.matcher import Match, Matcher, canonical_ecosystem, query_for
from shareguard.vuln.options import VulnOptions
from shareguard.vuln.purl import package_purl
from shareguard.vuln.remediation import remediation
from shareguard.vuln.severity import Rating, vendor_rating
from shareguard.vuln.store import AdvisoryRow, VulnStore
from shareguard.vuln.vex import VexDocument, load_vex

IMAGE_RULE = "VULN-IMAGE-PACKAGE"
APP_RULE = "VULN-APP-DEPENDENCY"
IMAGE_COMMANDS = frozenset({"image", "rootfs"})
UPDATE_HINT = "shareguard db update --from https://osv-vulnerabilities.storage.googleapis.com/{eco}/all.zip"
"""The command that loads an ecosystem's advisories (OSV publishes one all.zip per ecosystem)."""


def has_advisories(covered: dict[str, set[str]], ecosystem: str, release: str) -> bool:
    """Does the database hold advisories that can speak for a package of this ecosystem and release?"""
    releases = covered.get(ecosystem)
    if not releases:
        return False
    base = ecosystem.split(":", 1)[0]
    return any(ecosystems.release_matches(base, r, release) for r in releases)


def package_key(pkg: Package) -> str:
    """The coverage key of a package (its findings' resource is `path#name`)."""
    return f"{pkg.path}#{pkg.name}"


def vuln_rules() -> dict[str, RuleMeta]:
    return load_package_rules("shareguard.vuln", "rules.yaml")


def rule_for(pkg: Package, command: str | None, installed_system: bool = False) -> str:
    """Which duty a vulnerable package breaks: what is installed in an image or root filesystem is
    "scan and patch your images"; a dependency declared by workspace code is "secure your apps".

    `installed_system`: the scan found an OS or an image identity (an image or rootfs scan even when
    the command did not say so in `ctx.command`)."""
    if command in IMAGE_COMMANDS or installed_system:
        return IMAGE_RULE
    if pkg.layer is not None or pkg.os_managed or pkg.origin in ("os", "third-party"):
        return IMAGE_RULE
    return APP_RULE


def _env_root(path: str) -> str:
    for marker in ("/conda-meta/", "/lib/python", "/Lib/site-packages"):
        if marker in path:
            return path.split(marker, 1)[0]
    return path


def _dedupe_conda(packages: list[Package]) -> list[Package]:
    """A conda-installed Python project appears twice (conda-meta and its dist-info): keep conda's."""
    conda = {
        (dict(p.extra).get("pypi_name", "").lower().replace("_", "-"), p.version, _env_root(p.path))
        for p in packages
        if p.ecosystem.lower() == "conda"
    }
    return [
        p
        for p in packages
        if not (
            p.ecosystem.lower() == "pypi" and (p.name.lower().replace("_", "-"), p.version, _env_root(p.path)) in conda
        )
    ]


class OsvMatcher:
    """PostAnalyzer `vuln.osv`."""

    name = "vuln.osv"
    version = "1"
    order = 50
    controls: tuple[str, ...] = ()
    """Its rules' duties (set in __init__): left incomplete when the inventory it reads, or its own input
    (a VEX file), could not be analysed. What it evaluated is recorded per package."""
    inputs: tuple[type[Fact], ...] = (Package,)

    def __init__(self) -> None:
        self._rules = vuln_rules()
        self.controls = tuple(sorted({c for rule in self._rules.values() for c in rule.control_ids}))

    def analyze(self, facts: FactStore, ctx: ScanContext) -> Iterable[Output]:
        with open_for_scan(ctx.settings) as store:
            info = describe(store)
            ctx.metadata["vulnerability_db"] = info.metadata()
            if info.stale:
                ctx.warn("vulnerability database", info.stale_message(), self.name)
            return list(self._findings(store, facts, ctx))

    def _findings(self, store: VulnStore, facts: FactStore, ctx: ScanContext) -> Iterator[Output]:
        os_info = next(iter(facts.of(OSInfo)), None)
        command = ctx.command or None
        installed_system = bool(os_info or facts.of(ImageIdentity))
        vex = self._vex(ctx)
        ignore_unfixed = ctx.options.get(VulnOptions).ignore_unfixed
        matcher = Matcher(store, os_info)
        covered = store.releases()
        advisories: dict[str, AdvisoryRow | None] = {}
        evaluated: set[str] = set()
        unchecked: dict[tuple[str, str, str], int] = {}
        for pkg in _dedupe_conda(facts.of(Package)):
            query = query_for(pkg, os_info)
            if query is None:
                continue
            rule = self._rules[rule_for(pkg, command, installed_system)]
            if not has_advisories(covered, query.ecosystem, query.release):
                # Silence about a package the database knows nothing of is not a pass.
                key = (rule.id, query.ecosystem, query.release)
                unchecked[key] = unchecked.get(key, 0) + 1
                label = f"{query.ecosystem} {query.release}".strip()
                ctx.coverage.input_skipped(self.name, package_key(pkg), f"no {label} advisories loaded")
                continue
            evaluated.add(rule.id)
            ctx.coverage.input_evaluated(self.name, package_key(pkg))
            yield Evaluation(rule.id, rule.control_ids, package_key(pkg))
            for match, adv in unique_advisories(matcher.match(pkg, query), store, advisories):
                if ignore_unfixed and match.unfixed:
                    continue
                finding = build_finding(rule, match, adv, os_info, self.name)
                yield apply_vex(finding, vex)
        yield from self._unchecked(unchecked, evaluated, ctx)
        for eco, name, version in matcher.stats.unparsable[:50]:
            ctx.warn(
                name,
                f"{eco} version {version!r} cannot be ordered; matched against explicit version lists only",
                self.name,
            )

    def _unchecked(
        self, unchecked: dict[tuple[str, str, str], int], evaluated: set[str], ctx: ScanContext
    ) -> Iterator[Output]:
        """Name every ecosystem (and release) whose packages went unchecked, how many, and the fix.

        A duty some of whose packages were checked is `incomplete`; one with none checked is `not assessed`."""
        notes: list[dict[str, object]] = []
        for (rule_id, eco, release), count in sorted(unchecked.items()):
            rule = self._rules[rule_id]
            label = f"{eco} {release}".strip()
            reason = (
                f"no {label} advisories in the vulnerability database: {count} package(s) not checked; "
                f"load them with `{UPDATE_HINT.format(eco=eco)}`"
            )
            notes.append({"ecosystem": eco, "release": release, "packages": count, "fix": UPDATE_HINT.format(eco=eco)})
            ctx.warn("vulnerability database", reason, self.name)
            if rule_id in evaluated:
                yield Gap(rule.control_ids, f"{label} packages", reason)
            else:
                yield Unassessed(rule.control_ids, reason)
        if notes:
            ctx.metadata["unchecked_packages"] = notes

    def _vex(self, ctx: ScanContext) -> VexDocument | None:
        path = ctx.options.get(VulnOptions).vex
        if path is None:
            return None
        try:
            return load_vex(Path(path))
        except ShareguardError as exc:
            ctx.error(exc.path or str(path), exc.message, self.name)
            return None


def _id_rank(advisory_id: str) -> int:
    """Which record of one vulnerability a finding names: the reviewed GitHub record, then PyPA's, then
    any other database's, shareguard's own last (its copy stands in for an upstream record)."""
    for rank, prefix in enumerate(("GHSA-", "PYSEC-")):
        if advisory_id.startswith(prefix):
            return rank
    return 3 if advisory_id.startswith("SHAREGUARD-") else 2


def unique_advisories(
    matches: list[Match], store: VulnStore, cache: dict[str, AdvisoryRow | None]
) -> list[tuple[Match, AdvisoryRow]]:
    """One (match, advisory) per vulnerability of one package: records that share an id or an alias
    (a PYSEC and a GHSA record of one CVE, shareguard's copy and the upstream one) are one finding. The
    kept record is the best rated (a vendor or CVSS rating over none), then by `_id_rank`; it carries the
    ids and aliases of all of them, and the highest fixed version any of them names."""
    rows: list[tuple[Match, AdvisoryRow]] = []
    for m in matches:
        if m.advisory_id not in cache:
            cache[m.advisory_id] = store.advisory(m.advisory_id)
        adv = cache[m.advisory_id]
        if adv is not None:  # affected rows always have their advisory
            rows.append((m, adv))
    if len(rows) < 2:
        return rows
    parent: dict[str, str] = {}  # union-find over ids and aliases

    def root(name: str) -> str:
        while parent[name] != name:
            parent[name] = parent[parent[name]]
            name = parent[name]
        return name

    for _m, a in rows:
        for n in (a.id, *a.aliases):
            parent.setdefault(n, n)
        top = root(a.id)
        for n in a.aliases:
            other = root(n)
            if other != top:
                parent[other] = top
    members: dict[str, list[tuple[Match, AdvisoryRow]]] = {}
    for row in rows:
        members.setdefault(root(row[1].id), []).append(row)
    out: list[tuple[Match, AdvisoryRow]] = []
    for same in members.values():
        if len(same) == 1:
            out.append(same[0])
            continue
        match, adv = min(same, key=lambda r: (r[1].rating.source is SeveritySource.DEFAULT, _id_rank(r[1].id), r[1].id))
        names = [n for m, a in same for n in (a.id, *a.aliases) if n != adv.id]
        fixes = [m.fixed_version for m, _a in same if m.fixed_version]
        if fixes:
            match = match._replace(fixed_version=_highest(fixes, match))
        out.append((match, dataclasses.replace(adv, aliases=tuple(dict.fromkeys(names)))))
    return out


def _highest(versions: list[str], match: Match) -> str:
    from shareguard.vuln.versions import PEP440, InvalidVersion, scheme_for

    scheme = scheme_for(match.query.ecosystem) or PEP440
    try:
        return max(versions, key=scheme.key)
    except InvalidVersion:
        return match.fixed_version or versions[0]


def rating_for(match: Match, adv: AdvisoryRow) -> Rating:
    """The affected entry's own vendor rating (Debian urgency) first, then the advisory's."""
    sev = vendor_rating(match.vendor_severity)
    if sev is not None:
        return Rating(sev, SeveritySource.VENDOR, vendor=match.vendor_severity)
    return adv.rating


def build_finding(rule: RuleMeta, match: Match, adv: AdvisoryRow, os_info: OSInfo | None, analyzer: str) -> Finding:
    pkg = match.package
    rating = rating_for(match, adv)
    eco = canonical_ecosystem(pkg.ecosystem) or pkg.ecosystem
    purl = package_purl(pkg, os_info)
    cves = [a for a in adv.aliases if a.startswith("CVE-")]
    label = f"{adv.id}" + (f" ({', '.join(cves[:3])})" if cves else "")
    fixed = match.fixed_version
    installed = match.query.version if match.query.ecosystem in ("Debian", "Ubuntu", "Alpine") else pkg.version
    if fixed:
        evidence = f"{pkg.name} {pkg.version} installed; {adv.id} fixed in {fixed}"
    elif match.last_affected:
        evidence = f"{pkg.name} {pkg.version} installed; {adv.id} affects up to {match.last_affected}"
    else:
        evidence = f"{pkg.name} {pkg.version} installed; {adv.id} has no fix yet"
    url = next(
        (r for r in adv.references if "advisories" in r or "security" in r),
        adv.references[0] if adv.references else None,
    )
    return rule.finding(
        Resource(type="package", path=pkg.path, name=pkg.name),
        location=Location(layer_digest=pkg.layer),
        evidence=evidence,
        title=f"{pkg.name} {pkg.version}: {label}" + (f": {adv.summary}" if adv.summary else ""),
        severity=rating.severity,
        severity_source=rating.source,
        remediation=remediation(*_manager_package(pkg, eco), fixed, match.last_affected, url),
        analyzer=analyzer,
        properties={
            "vulnerability_id": adv.id,
            "aliases": list(adv.aliases),
            "package": pkg.name,
            "ecosystem": eco,
            "matched_as": f"{match.query.ecosystem}/{match.query.name}",
            "installed_version": pkg.version,
            "compared_version": installed,
            "fixed_version": fixed,
            "last_affected": match.last_affected,
            "unfixed": match.unfixed,
            "matched_by": match.via,
            "purl": purl,
            "package_path": pkg.path,
            "layer": pkg.layer,
            "severity_vendor": rating.vendor,
            "cvss_score": rating.score,
            "cvss_vector": rating.vector,
            "references": list(adv.references[:5]),
            "fingerprint_key": f"{adv.id}|{pkg.ecosystem}|{pkg.name}|{pkg.version}",
        },
    )


def _manager_package(pkg: Package, eco: str) -> tuple[Package, str]:
    """Who installed it decides the upgrade command: a PyPI project installed by conda is upgraded with conda."""
    extra = dict(pkg.extra)
    if eco == "PyPI" and extra.get("installer") == "conda" and extra.get("conda_package"):
        return dataclasses.replace(pkg, name=extra["conda_package"]), "conda"
    return pkg, eco


def apply_vex(finding: Finding, vex: VexDocument | None) -> Finding:
    if vex is None:
        return finding
    ids = {finding.properties["vulnerability_id"], *finding.properties.get("aliases", [])}
    statement = vex.decide(ids, finding.properties.get("purl"))
    if statement is None or statement.status != "not_affected":
        return finding
    why = statement.justification or statement.impact_statement or "not_affected"
    props = dict(finding.properties)
    props["vex"] = {
        "status": statement.status,
        "justification": statement.justification,
        "impact_statement": statement.impact_statement,
        "document": vex.path,
    }
    return finding.model_copy(update={"status": Status.WAIVED, "waiver": f"VEX: {why}", "properties": props})
