"""OSV ranges compiled once per scan, so that placing a version is a binary search over sorted keys.

The OSV specification evaluates a range by walking its sorted events (IncludedInRanges with
BeforeLimits). That walk is a state machine whose outcome depends only on how many events are at or
below the version, so `compile_range` runs it once for every such count. `merge_ranges` then folds
all the ranges of one affected entry into a single table over their distinct event versions (the
outcome of the first range that includes a version, as the matcher reports it). The matcher lays
the tables of all the entries for one package name out over their common keys, so a package costs
one `bisect` of C-level key comparisons and each (package, advisory) pair one list index.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections.abc import Sequence
from dataclasses import dataclass
from itertools import pairwise
from typing import Any

from shareguard.vuln.versions import VersionScheme

Verdict = tuple[str | None, str | None]
"""(next fixed version, last affected version) of an affected stretch."""


@dataclass(slots=True)
class CompiledRange:
    """One OSV range. `verdicts[p]` is the outcome once exactly the first p sorted events are at or
    below the version (None: not affected)."""

    keys: list[Any]
    """Sorted keys of the events with a real version (an introduced "0" applies before them)."""
    kinds: list[str]
    verdicts: list[Verdict | None]
    limits: list[Any]
    """Keys of limit events (None for "*"); empty means no limit."""
    fixes: list[tuple[Any, str]]
    """(key, raw) of every fixed event, for versions matched through the explicit list."""


@dataclass(slots=True)
class RangeTable:
    """All the ranges of one affected entry over their distinct event keys.

    With `p = bisect_right(keys, v)`, the verdict is `after[p]`; when `exact` is set and
    `keys[p - 1] == v`, it is `exact[p - 1]` instead (only an inclusive `last_affected` makes a
    version equal to an event differ from the versions just above it)."""

    keys: list[Any]
    after: list[Verdict | None]
    exact: list[Verdict | None] | None

    def verdict(self, v: Any) -> Verdict | None:
        p = bisect_right(self.keys, v)
        if self.exact is not None and p and self.keys[p - 1] == v:
            return self.exact[p - 1]
        return self.after[p]


def compile_range(events: Sequence[tuple[str, str]], scheme: VersionScheme) -> CompiledRange:
    """Raises InvalidVersion when an event's version cannot be placed in the scheme's order."""
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
    # ends[j]: the first fixed / last_affected event from j on, unless an introduced event comes first
    ends: list[Verdict] = [(None, None)] * (len(ordered) + 1)
    for j in range(len(ordered) - 1, -1, -1):
        _k, kind, raw = ordered[j]
        ends[j] = (raw, None) if kind == "fixed" else (None, raw) if kind == "last_affected" else (None, None)
    # The spec's loop, run once: the state after each prefix of the sorted events is that prefix's verdict,
    # and an affected stretch reports the end that follows the introduced event which opened it.
    vulnerable, opened = zero, -1
    verdicts: list[Verdict | None] = [ends[0] if vulnerable else None]
    for i, (_k, kind, _raw) in enumerate(ordered):
        if kind == "introduced":
            vulnerable, opened = True, i
        elif kind in ("fixed", "last_affected"):  # in a prefix the version is above any last_affected
            vulnerable = False
        verdicts.append(ends[opened + 1] if vulnerable else None)
    return CompiledRange(
        keys=[e[0] for e in ordered],
        kinds=[e[1] for e in ordered],
        verdicts=verdicts,
        limits=limits,
        fixes=[(k, raw) for k, kind, raw in ordered if kind == "fixed"],
    )


def included(v: Any, rg: CompiledRange) -> Verdict | None:
    """OSV's IncludedInRanges (with BeforeLimits) for one range: None if not affected."""
    if rg.limits and not any(lim is None or v < lim for lim in rg.limits):
        return None
    keys = rg.keys
    p = bisect_right(keys, v)
    # `last_affected` is inclusive: one equal to the version has not taken effect yet.
    while p and rg.kinds[p - 1] == "last_affected" and keys[p - 1] == v:
        p -= 1
    return rg.verdicts[p]


def first_included(v: Any, ranges: Sequence[CompiledRange]) -> Verdict | None:
    """The verdict of the first range that includes the version (None: none does)."""
    for rg in ranges:
        verdict = included(v, rg)
        if verdict is not None:
            return verdict
    return None


def merge_ranges(ranges: Sequence[CompiledRange]) -> RangeTable:
    """Fold ranges (of one scheme) into one table that gives `first_included` for any version.

    Only keys are compared, so the verdict AT an event's key is `first_included` of that key, and the
    verdict strictly between two neighbouring keys (or beyond the ends) is the one for a version that
    has the same events at or below it and equals none of them."""
    if not ranges:
        return RangeTable([], [None], None)
    if len(ranges) == 1:
        only = ranges[0]
        keys = only.keys
        if not only.limits and "last_affected" not in only.kinds and all(a < b for a, b in pairwise(keys)):
            return RangeTable(keys, only.verdicts, None)  # the common case: already such a table
    every = [k for rg in ranges for k in rg.keys]
    every.extend(lim for rg in ranges for lim in rg.limits if lim is not None)
    distinct = distinct_sorted(every)
    at = [first_included(k, ranges) for k in distinct]
    after = [_between(i, distinct, ranges) for i in range(len(distinct) + 1)]
    # after[p] stands for "exactly p keys at or below": also for a version equal to distinct[p - 1]
    # unless that key's own verdict differs.
    exact = at if any(at[i] != after[i + 1] for i in range(len(distinct))) else None
    return RangeTable(distinct, after, exact)


def distinct_sorted(keys: list[Any]) -> list[Any]:
    """Keys sorted, one of each set of equal keys (`1.0` and `1.0.0` are one PEP 440 key)."""
    out: list[Any] = []
    for k in sorted(keys):
        if not out or out[-1] != k:
            out.append(k)
    return out


def _between(p: int, distinct: list[Any], ranges: Sequence[CompiledRange]) -> Verdict | None:
    """The verdict for a version above distinct[p - 1] (if any) and below distinct[p] (if any)."""
    upper = distinct[p] if p < len(distinct) else None
    for rg in ranges:
        # v < lim for such a version exactly when lim is at or above the next distinct key
        if rg.limits and not any(lim is None or (upper is not None and not lim < upper) for lim in rg.limits):
            continue
        count = bisect_left(rg.keys, upper) if upper is not None else len(rg.keys)
        verdict = rg.verdicts[count]
        if verdict is not None:
            return verdict
    return None
