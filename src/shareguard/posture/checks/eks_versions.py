"""EKS-004: the cluster's Kubernetes version against the EKS release calendar (`posture/data/eks_versions.yaml`,
the official table with its source and retrieval date), on the scan's date (`ScanClock`).

A version past its end of standard support fails; one older than the calendar's oldest row (no longer offered by
EKS) fails; one newer than the calendar's newest row, or a version that is an expression, is unresolved. A cluster
without `version` gets the newest version when it is created (the provider's default) and passes.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from functools import cache

from shareguard.core.clock import ScanClock
from shareguard.core.context import ScanContext
from shareguard.freshness.dates import parse_date
from shareguard.posture.checks._util import data, is_unknown
from shareguard.posture.model import PostureResource, Unresolved, Violation

RULE = "EKS-004"
_MINOR = re.compile(r"^\s*v?(\d+)\.(\d+)")


@dataclass(frozen=True)
class Calendar:
    rows: dict[tuple[int, int], tuple[date, date]]
    """(major, minor) → (end of standard support, end of extended support)."""
    retrieved: str


@cache
def calendar() -> Calendar:
    doc = data("eks_versions")
    where = "posture/data/eks_versions.yaml"
    rows: dict[tuple[int, int], tuple[date, date]] = {}
    for version, row in doc["versions"].items():
        m = _MINOR.match(str(version))
        if m is None:
            continue
        rows[(int(m.group(1)), int(m.group(2)))] = (
            parse_date(row["end_of_standard_support"], where, f"{version}.end_of_standard_support"),
            parse_date(row["end_of_extended_support"], where, f"{version}.end_of_extended_support"),
        )
    return Calendar(rows, str(doc.get("retrieved") or ""))


def judge(version: object, today: date) -> Violation | Unresolved | None:
    if is_unknown(version):
        return Unresolved(RULE, "version", f"the cluster version is {version}")
    m = _MINOR.match(str(version))
    if m is None:
        return Unresolved(RULE, "version", f"{version!r} is not a Kubernetes version")
    key = (int(m.group(1)), int(m.group(2)))
    cal = calendar()
    label = f"{key[0]}.{key[1]}"
    row = cal.rows.get(key)
    if row is None:
        if cal.rows and key < min(cal.rows):
            return Violation(RULE, "version", str(version), f"{label} is older than every version EKS still offers")
        return Unresolved(RULE, "version", f"{label} is not in the bundled EKS calendar (retrieved {cal.retrieved})")
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
        out = judge(version, ctx.options.get(ScanClock).today())
        if out is not None:
            yield out


CHECKS = (EksVersionChecks(),)
