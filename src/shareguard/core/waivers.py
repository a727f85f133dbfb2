"""Waivers (`.shareguard-ignore.yaml`): accepted risks, each with a reason and an expiry date.

    waivers:
      - rule: DOCKERFILE-001            # any of rule / control / resource / fingerprint
        control: DLC-C-02
        resource: "docker/*/Dockerfile" # a glob over the finding's resource path
        fingerprint: 3f2a…
        reason: "base image pinned by the platform team"   # required
        expires: 2027-01-31                                 # required (YYYY-MM-DD)

Every given key must match (AND). An expired waiver stops applying and is itself reported.
"""

from __future__ import annotations

import fnmatch
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import yaml

from shareguard.core.context import ScanIssue
from shareguard.core.errors import BudgetExceeded, ShareguardError, WaiverError
from shareguard.core.files import read_regular_text
from shareguard.core.finding import Finding, Status
from shareguard.core.result import ExpiredWaiver, ScanResult

WAIVER_FILENAME = ".shareguard-ignore.yaml"
_MATCH_KEYS = ("rule", "control", "resource", "fingerprint")
_ALLOWED = {*_MATCH_KEYS, "reason", "expires"}
MAX_WAIVER_BYTES = 4 * 1024 * 1024


@dataclass(frozen=True)
class Waiver:
    source: str
    line: int
    reason: str
    expires: date
    rule: str | None = None
    control: str | None = None
    resource: str | None = None
    fingerprint: str | None = None

    def matches(self, f: Finding) -> bool:
        if self.rule is not None and f.rule_id != self.rule:
            return False
        if self.control is not None and self.control not in f.control_ids:
            return False
        if self.resource is not None and not fnmatch.fnmatchcase(f.resource.path, self.resource):
            return False
        return self.fingerprint is None or f.fingerprint == self.fingerprint

    def expired(self, today: date) -> bool:
        return self.expires < today


class _LineLoader(yaml.SafeLoader):
    """SafeLoader that remembers each mapping's line (for one-line errors) and keeps dates as text.

    YAML's implicit timestamps would turn `2027-02-30` into a ValueError without a line; as text,
    `expires` is checked by `_parse_entry`, which names the line.
    """


_LineLoader.yaml_implicit_resolvers = {
    first: [(tag, rx) for tag, rx in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


def _construct_mapping(loader: _LineLoader, node: yaml.MappingNode) -> dict[str, Any]:
    mapping = loader.construct_mapping(node, deep=True)
    mapping["__line__"] = node.start_mark.line + 1
    return mapping  # type: ignore[return-value]


_LineLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)


def find_waiver_file(root: Path | None, explicit: Path | None) -> Path | None:
    if explicit is not None:
        if not explicit.is_file():
            raise WaiverError("waiver file not found", path=str(explicit))
        return explicit
    if root is not None:
        candidate = root / WAIVER_FILENAME
        if candidate.is_file():
            return candidate
    return None


MAX_WAIVER_DEPTH = 64
"""A waiver file is a flat list of small mappings; nothing real nests flow collections this deep."""


def _flow_depth(text: str) -> int:
    """The deepest nesting of `[`/`{` outside quotes and comments: one linear pass."""
    depth = deepest = 0
    quote = ""
    comment = False
    for ch in text:
        if comment:
            comment = ch != "\n"
        elif quote:
            if ch == quote:
                quote = ""
        elif ch in "'\"":
            quote = ch
        elif ch == "#":
            comment = True
        elif ch in "[{":
            depth += 1
            deepest = max(deepest, depth)
        elif ch in "]}":
            depth = max(depth - 1, 0)
    return deepest


def load_waivers(path: Path) -> list[Waiver]:
    origin = str(path)
    try:
        # Regular files only, never more than the budget read (a FIFO, /dev/zero, a 3 GiB file).
        text = read_regular_text(path, MAX_WAIVER_BYTES)
    except BudgetExceeded:
        raise WaiverError("waiver file over 4 MiB", path=origin) from None
    except ShareguardError as exc:
        raise WaiverError(exc.message, path=origin) from None
    if _flow_depth(text) > MAX_WAIVER_DEPTH:
        # PyYAML's pure-Python scanner is quadratic in flow nesting: refuse before it starts.
        raise WaiverError(f"YAML nested deeper than {MAX_WAIVER_DEPTH} levels", path=origin)
    try:
        doc = yaml.load(text, Loader=_LineLoader)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        raise WaiverError(
            f"invalid YAML: {getattr(exc, 'problem', exc)}", path=origin, line=mark.line + 1 if mark else None
        ) from None
    except RecursionError:  # PyYAML's composer recurses once per nesting level
        raise WaiverError("YAML nested too deeply", path=origin) from None
    except ValueError as exc:  # an integer of more than 4300 digits (int() refuses to convert it)
        raise WaiverError(f"invalid value: {str(exc).split(':')[0]}", path=origin) from None
    if doc is None:
        return []
    items = doc.get("waivers") if isinstance(doc, dict) else None
    if not isinstance(items, list):
        raise WaiverError("expected a top-level `waivers:` list", path=origin, line=1)
    return [_parse_entry(item, origin) for item in items]


def _parse_entry(item: Any, origin: str) -> Waiver:
    if not isinstance(item, dict):
        raise WaiverError("each waiver must be a mapping", path=origin)
    line = int(item.pop("__line__", 0)) or None
    unknown = set(item) - _ALLOWED
    if unknown:
        raise WaiverError(f"unknown key(s): {', '.join(sorted(unknown))}", path=origin, line=line)
    if not any(item.get(k) for k in _MATCH_KEYS):
        raise WaiverError("a waiver needs at least one of rule, control, resource, fingerprint", path=origin, line=line)
    reason = item.get("reason")
    if not isinstance(reason, str) or not reason.strip():
        raise WaiverError("`reason` is required", path=origin, line=line)
    expires = item.get("expires")
    if isinstance(expires, datetime):
        expires = expires.date()
    elif isinstance(expires, str):
        text = expires
        try:
            expires = date.fromisoformat(text)
        except ValueError:
            shown = text if len(text) <= 40 else text[:40] + "…"
            raise WaiverError(f"`expires` must be a date (YYYY-MM-DD), not {shown!r}", path=origin, line=line) from None
    if not isinstance(expires, date):
        raise WaiverError("`expires` is required (YYYY-MM-DD)", path=origin, line=line)
    for key in _MATCH_KEYS:
        if key in item and not isinstance(item[key], str):
            raise WaiverError(f"`{key}` must be a string", path=origin, line=line)
    return Waiver(
        source=origin,
        line=line or 0,
        reason=reason.strip(),
        expires=expires,
        rule=item.get("rule"),
        control=item.get("control"),
        resource=item.get("resource"),
        fingerprint=item.get("fingerprint"),
    )


def apply_waivers(result: ScanResult, path: Path, today: date | None = None) -> ScanResult:
    """Mark matching failing findings as waived; report expired waivers (which no longer apply)."""
    today = today or datetime.now(UTC).date()
    waivers = load_waivers(path)
    active = [w for w in waivers if not w.expired(today)]
    expired = [w for w in waivers if w.expired(today)]
    findings: list[Finding] = []
    for f in result.findings:
        if f.status is Status.FAIL:
            w = next((w for w in active if w.matches(f)), None)
            if w is not None:
                f = f.with_status(Status.WAIVED, f"{w.reason} (until {w.expires.isoformat()})")
        findings.append(f)
    expired_report = [
        ExpiredWaiver(
            w.source, w.line, w.expires.isoformat(), w.reason, sum(1 for f in result.findings if w.matches(f))
        )
        for w in expired
    ]
    return replace(
        result,
        findings=findings,
        expired_waivers=[*result.expired_waivers, *expired_report],
        issues=[*result.issues, *_unknown_rules(waivers, result)],
    )


def _unknown_rules(waivers: list[Waiver], result: ScanResult) -> list[ScanIssue]:
    """A warning for each waiver naming a rule id that none of the scan's analyzers knows and no finding
    carries (a typo waives nothing). Only for a scan that lists its rules (`result.rules`)."""
    if not result.rules:
        return []
    fired = {f.rule_id for f in result.findings}
    return [
        ScanIssue(
            f"{w.source}:{w.line}" if w.line else w.source,
            f"waiver names rule {w.rule!r}, which no analyzer of this scan knows: it waives nothing",
            None,
            "warning",
        )
        for w in waivers
        if w.rule is not None and w.rule not in result.rules and w.rule not in fired
    ]
