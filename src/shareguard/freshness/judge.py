"""Judge an identified image against the release catalog: end of patch passed or near, a newer release of the
same line, a line out of support; each judgement names the exact tag or image family to move to."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from shareguard.core.severity import Severity
from shareguard.freshness.identify import Identification
from shareguard.freshness.model import Release, ReleaseCatalog, line_of, version_key

SOON_HIGH_DAYS = 30
SOON_MEDIUM_DAYS = 90


@dataclass(frozen=True)
class Judgement:
    check: str
    """`eop` (001), `eop-soon` (002), `newer` (003), `unsupported` (004)."""
    severity: Severity | None
    message: str
    target: str = ""
    """The exact tag or image family to move to."""
    target_release: Release | None = None


@dataclass(frozen=True)
class Verdict:
    judgements: tuple[Judgement, ...]
    checked: tuple[str, ...]
    """The checks evaluated (a duty may pass on them when no judgement failed)."""
    release: Release | None = None
    reason: str = ""
    """Why nothing could be judged (the line is not in the catalog…)."""


def _matches(r: Release, ident: Identification) -> bool:
    if r.provider != ident.provider or r.product != ident.product or r.framework != ident.framework:
        return False
    if ident.repository and ident.provider == "aws" and r.repository != ident.repository:
        return False
    # Without a repository, the standard one of that framework and container type (`pytorch-training`).
    standard = f"{ident.framework}-{ident.container_type}"
    if ident.provider == "aws" and not ident.repository and ident.container_type and r.repository != standard:
        return False
    if ident.accelerator and r.accelerator and ident.provider == "aws" and r.accelerator != ident.accelerator:
        return False
    google_gpu_mismatch = (
        ident.provider == "google"
        and bool(ident.accelerator)
        and r.accelerator.startswith("cu") != ident.accelerator.startswith("cu")
    )
    return not google_gpu_mismatch


def _same_version(r: Release, version: str) -> bool:
    want = version_key(version)
    have = version_key(r.version)
    n = len(have)
    return want[:n] == have and (len(want) <= n or len(have) >= 2)


def _supported(r: Release, today: date) -> bool:
    return r.eop is None or r.eop > today


def _prefer(candidates: list[Release], ident: Identification) -> list[Release]:
    """Of several releases of one version, those that fit the platform and Python seen, best first."""

    def score(r: Release) -> tuple[int, int, int]:
        return (
            int(bool(ident.platform) and r.platform == ident.platform),
            int(bool(ident.python) and r.python == ident.python),
            int(bool(ident.accelerator) and r.accelerator == ident.accelerator),
        )

    return sorted(candidates, key=score, reverse=True)


def _target(pool: list[Release], ident: Identification, today: date, *, newest: bool) -> Release | None:
    """The release to move to: the newest (or, for an unsupported line, the oldest) supported line, of the
    same platform where one is known."""
    supported = [r for r in pool if r.eop is not None and r.eop > today] or [r for r in pool if r.eop is None]
    if not supported:
        return None
    supported.sort(key=lambda r: r.line_key, reverse=newest)
    best_key = supported[0].line_key
    same_line = [r for r in supported if r.line_key == best_key]
    return _prefer(same_line, ident)[0]


def _name(r: Release) -> str:
    return r.tags[0] if r.tags else r.repository


def judge_internal(ident: Identification, catalog: ReleaseCatalog, today: date) -> Verdict:
    """An internal image: its releases are ordered by release date (tags need not be versions)."""
    pool = sorted(
        (r for r in catalog.releases if r.product == "internal" and r.repository == ident.repository),
        key=lambda r: r.ga or date.min,
    )
    own = next((r for r in pool if r.version == ident.version), None)
    if own is None:
        return Verdict((), (), reason=f"{ident.repository}:{ident.version} is not in the publisher's catalog")
    later = [r for r in pool if (r.ga or date.min) > (own.ga or date.min) and _supported(r, today)]
    out: list[Judgement] = []
    if later:
        out.append(
            Judgement(
                "newer",
                None,
                f"a newer release of {own.repository} exists: {later[-1].version}",
                later[-1].version,
                later[-1],
            )
        )
    if own.eop is not None:
        days = (own.eop - today).days
        move = f"; move to {later[-1].version}" if later else ""
        if days < 0:
            out.append(
                Judgement(
                    "eop",
                    None,
                    f"{own.repository}:{own.version} passed its end of patch on {own.eop}{move}",
                    later[-1].version if later else "",
                    later[-1] if later else None,
                )
            )
        elif days <= SOON_MEDIUM_DAYS:
            sev = Severity.HIGH if days <= SOON_HIGH_DAYS else Severity.MEDIUM
            out.append(
                Judgement(
                    "eop-soon",
                    sev,
                    f"{own.repository}:{own.version} reaches its end of patch on {own.eop} (in {days} days){move}",
                    later[-1].version if later else "",
                    later[-1] if later else None,
                )
            )
    return Verdict(tuple(out), ("eop", "eop-soon", "newer"), own)


def judge(ident: Identification, catalog: ReleaseCatalog, today: date) -> Verdict:
    if ident.product == "internal":
        return judge_internal(ident, catalog, today)
    if ident.version == "latest":
        return Verdict((), ("eop", "eop-soon", "newer", "unsupported"))
    pool = [r for r in catalog.by_framework.get(ident.framework, []) if _matches(r, ident)]
    checks = ("eop", "eop-soon", "newer", "unsupported")
    if not pool:
        return Verdict(
            (), (), reason=f"no {ident.provider} {ident.product} releases of {ident.framework} in the release catalog"
        )
    own = _prefer([r for r in pool if _same_version(r, ident.version)], ident)
    out: list[Judgement] = []
    if not own:
        lines = sorted({r.line_key for r in pool})
        mine = version_key(line_of(ident.version))
        if lines and mine < lines[0]:
            target = _target(pool, ident, today, newest=False)
            where = f"; nearest supported line: {target.version} ({_name(target)})" if target else ""
            out.append(
                Judgement(
                    "unsupported",
                    None,
                    f"{ident.framework} {ident.version} is older than every line the catalog lists "
                    f"(oldest: {'.'.join(map(str, lines[0]))}){where}",
                    _name(target) if target else "",
                    target,
                )
            )
            return Verdict(tuple(out), checks)
        return Verdict(
            (), (), reason=f"{ident.framework} {ident.version} is not in the release catalog (a newer or unlisted line)"
        )
    release = own[0]
    # A newer release of the same line (`0.5.17` for `0.5.10`), the catalog listing patch versions.
    same_line = [r for r in pool if line_of(r.version) == line_of(release.version) and r.line_key > release.line_key]
    if same_line:
        newer = _prefer(sorted(same_line, key=lambda r: r.line_key, reverse=True), ident)[0]
        out.append(
            Judgement(
                "newer",
                None,
                f"a newer release of the {line_of(release.version)} line exists: {newer.version}",
                _name(newer),
                newer,
            )
        )
    if release.eop is not None:
        days = (release.eop - today).days
        target = _target([r for r in pool if r.line_key > release.line_key], ident, today, newest=True)
        move = (
            f"; move to {_name(target)}"
            if target
            else f"; the catalog lists no supported newer release of {release.repository}: move to another supported image"
        )
        if days < 0:
            out.append(
                Judgement(
                    "eop",
                    None,
                    f"{ident.framework} {release.version} passed its end of patch on {release.eop} ({-days} days ago){move}",
                    _name(target) if target else "",
                    target,
                )
            )
        elif days <= SOON_MEDIUM_DAYS:
            sev = Severity.HIGH if days <= SOON_HIGH_DAYS else Severity.MEDIUM
            out.append(
                Judgement(
                    "eop-soon",
                    sev,
                    f"{ident.framework} {release.version} reaches its end of patch on {release.eop} (in {days} days){move}",
                    _name(target) if target else "",
                    target,
                )
            )
    return Verdict(tuple(out), checks, release)
