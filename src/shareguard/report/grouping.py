"""Where a failing finding is listed first when findings are grouped by duty: under the most severe of its
duties (ties: catalog order), duties most severe first. The table and the HTML report share it, so a
finding sits under the same duty in both."""

from __future__ import annotations

from shareguard.core.finding import Finding, Status
from shareguard.core.severity import Severity
from shareguard.report.rollup import Rollup

SEVERITY_ORDER = {s: i for i, s in enumerate(Severity)}
"""critical 0 … info last."""


def rank(f: Finding) -> int:
    """Failing before waived, then most severe first."""
    return SEVERITY_ORDER[f.severity] + (len(Severity) if f.status is not Status.FAIL else 0)


def by_duty(findings: list[Finding], roll: Rollup) -> list[tuple[str | None, list[Finding]]]:
    """(duty id, its findings) most severe duty first; (None, findings naming no duty of the catalog) last.
    Each finding is listed once, in the order given."""
    order = {d.control.id: i for i, d in enumerate(roll.duties())}
    worst: dict[str, int] = {}
    for f in findings:
        r = rank(f)
        for cid in f.control_ids:
            if cid in order:
                worst[cid] = min(worst.get(cid, r), r)
    ranked = sorted(worst, key=lambda cid: (worst[cid], order[cid]))
    rank_of = {cid: i for i, cid in enumerate(ranked)}
    placed: dict[str, list[Finding]] = {}
    other: list[Finding] = []
    for f in findings:
        known = [cid for cid in f.control_ids if cid in rank_of]
        if known:
            placed.setdefault(min(known, key=rank_of.__getitem__), []).append(f)
        else:
            other.append(f)
    groups: list[tuple[str | None, list[Finding]]] = [(cid, placed[cid]) for cid in ranked if cid in placed]
    if other:
        groups.append((None, other))
    return groups
