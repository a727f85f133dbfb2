"""EKS-004: the cluster's Kubernetes version against the EKS release calendar (`posture/data/eks_versions.yaml`,
the official table with its source and retrieval date, or the copy `catalog update` wrote: `posture/tables.py`),
on the scan's date (`ScanClock`).

A version past its end of standard support fails; one older than the calendar's oldest row (no longer offered by
EKS) fails; one newer than the calendar's newest row, or a version that is an expression, is unresolved. A cluster
without `version` gets the newest version when it is created (the provider's default) and passes.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from functools import lru_cache

from shareguard.core.clock import ScanClock
from shareguard.core.context import ScanContext
from shareguard.posture import tables
from shareguard.posture.checks._util import is_unknown
from shareguard.posture.model import PostureResource, Unresolved, Violation

RULE = "EKS-004"
_MINOR = re.compile(r"^\s*v?(\d+)\.(\d+)")


@dataclass(frozen=True)
class Calendar:
    rows: dict[tuple[int, int], tuple[date, date]]
    """(major, minor) → (end of standard support, end of extended support)."""
    retrieved: str
    origin: str = tables.BUNDLED


def calendar(table: tables.Table | None = None) -> Calendar:
    """The calendar of `table` (the bundled snapshot by default)."""
    return _calendar(table or tables.bundled("eks_versions"))


@lru_cache(maxsize=4)
def _calendar(table: tables.Table) -> Calendar:
    model = table.model
    assert isinstance(model, tables.EksCalendar)
    rows: dict[tuple[int, int], tuple[date, date]] = {}
    for version, row in model.versions.items():
        m = _MINOR.match(version)
        if m is not None:
            rows[(int(m.group(1)), int(m.group(2)))] = (row.end_of_standard_support, row.end_of_extended_support)
    return Calendar(rows, model.retrieved.isoformat(), table.origin)


def judge(version: object, today: date, cal: Calendar | None = None) -> Violation | Unresolved | None:
    if is_unknown(version):
        return Unresolved(RULE, "version", f"the cluster version is {version}")
    m = _MINOR.match(str(version))
    if m is None:
        return Unresolved(RULE, "version", f"{version!r} is not a Kubernetes version")
    key = (int(m.group(1)), int(m.group(2)))
    cal = cal or calendar()
    label = f"{key[0]}.{key[1]}"
    row = cal.rows.get(key)
    if row is None:
        if cal.rows and key < min(cal.rows):
            return Violation(RULE, "version", str(version), f"{label} is older than every version EKS still offers")
        which = "bundled" if cal.origin == tables.BUNDLED else "updated"
        return Unresolved(RULE, "version", f"{label} is not in the {which} EKS calendar (retrieved {cal.retrieved})")
    standard, extended = row
    if today < standard:
        return None
    if today < extended:
        detail = f"{label}: standard support ended {standard}, extended support until {extended}"
    else:
        detail = f"{label}: extended support ended {extended} (the control plane is upgraded by force)"
    return Violation(RULE, "version", str(version), detail)


@dataclass(frozen=True)
class EksVersionChecks:
    name: str = "eks_versions"
    types: frozenset[str] = frozenset({"aws.eks.cluster"})

    def check(self, resource: PostureResource, ctx: ScanContext) -> Iterable[Violation | Unresolved]:
        version = resource.attributes.get("version")
        if version is None:
            return
        cal = calendar(tables.load("eks_versions", ctx.settings))
        out = judge(version, ctx.options.get(ScanClock).today(), cal)
        if out is not None:
            yield out


CHECKS = (EksVersionChecks(),)
