"""Baselines: accept today's findings, fail only on new ones (`--write-baseline` / `--baseline`).

A baseline is JSON:

    {"version": 1, "generated": "…", "findings": [
       {"file": "docker/train/Dockerfile", "resource_type": "dockerfile", "resource": "docker/train/Dockerfile",
        "rule": "DOCKERFILE-010", "fingerprint": "3f2a…"}, …]}

A finding is in the baseline when its fingerprint is listed, or else when an entry with the
same file + resource type + resource name + rule is still unused: entries are consumed one by
one, so a *second* occurrence of a known problem in the same resource is still new, while an
edit that only changes the evidence of a known one is not. Resource names alone never match
(two `main` resources in two files are two things).
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from shareguard.core.errors import BudgetExceeded, ConfigError, ShareguardError
from shareguard.core.files import read_regular
from shareguard.core.finding import Finding, Status
from shareguard.core.output import write_atomically
from shareguard.core.result import ScanResult
from shareguard.core.safe_json import load_json

VERSION = 1
_MAX_BYTES = 64 * 1024 * 1024
_MAX_DEPTH = 16
"""A baseline is an object holding a list of flat objects: anything deeper is not one."""
Key = tuple[str, str, str, str]


def key_of(f: Finding) -> Key:
    return (f.resource.path, f.resource.type, f.resource.name or "", f.rule_id)


def baseline_document(result: ScanResult) -> dict[str, Any]:
    entries = [
        {
            "file": f.resource.path,
            "resource_type": f.resource.type,
            "resource": f.resource.name or "",
            "rule": f.rule_id,
            "fingerprint": f.fingerprint,
        }
        for f in result.findings
        if f.status is Status.FAIL
    ]
    entries.sort(key=lambda e: (e["file"], e["resource_type"], e["resource"], e["rule"], e["fingerprint"]))
    return {"version": VERSION, "generated": datetime.now(UTC).isoformat(timespec="seconds"), "findings": entries}


def write_baseline(result: ScanResult, path: Path) -> int:
    """Write the failing findings of `result`; returns how many."""
    doc = baseline_document(result)
    write_atomically(path, json.dumps(doc, indent=2) + "\n")
    return len(doc["findings"])


def load_baseline(path: Path) -> tuple[set[str], Counter[Key]]:
    origin = str(path)
    if not path.exists() and not path.is_symlink():
        raise ConfigError("baseline file not found", path=origin)
    try:
        # Regular files only, never more than the budget read; depth, huge numbers and syntax: one line each.
        data = read_regular(path, _MAX_BYTES)
    except BudgetExceeded:
        raise ConfigError("baseline file is over 64 MiB", path=origin) from None
    except ShareguardError as exc:
        raise ConfigError(f"cannot read baseline: {exc.message}", path=origin) from None
    doc = load_json(data, origin=origin, max_bytes=_MAX_BYTES, max_depth=_MAX_DEPTH, error=ConfigError)
    if not isinstance(doc, dict) or not isinstance(doc.get("findings"), list):
        raise ConfigError("expected an object with a `findings` list (write one with --write-baseline)", path=origin)
    fingerprints: set[str] = set()
    keys: Counter[Key] = Counter()
    for i, e in enumerate(doc["findings"]):
        fields = ("file", "resource_type", "resource", "rule")
        if not isinstance(e, dict) or not all(isinstance(e.get(k), str) for k in fields):
            raise ConfigError(f"entry #{i + 1} needs string fields {', '.join(fields)}", path=origin)
        keys[(e["file"], e["resource_type"], e["resource"], e["rule"])] += 1
        if isinstance(e.get("fingerprint"), str):
            fingerprints.add(e["fingerprint"])
    return fingerprints, keys


def apply_baseline(result: ScanResult, path: Path) -> ScanResult:
    """Mark failing findings already in the baseline as waived ("baseline")."""
    fingerprints, keys = load_baseline(path)
    remaining = Counter(keys)
    failing = [f for f in result.findings if f.status is Status.FAIL]
    known: set[str] = set()
    # Exact matches consume their key first, so they never steal a slot from a moved finding.
    for f in failing:
        if f.fingerprint in fingerprints and remaining[key_of(f)] > 0:
            remaining[key_of(f)] -= 1
            known.add(f.fingerprint)
    for f in failing:
        if f.fingerprint not in known and remaining[key_of(f)] > 0:
            remaining[key_of(f)] -= 1
            known.add(f.fingerprint)
    findings = [
        f.with_status(Status.WAIVED, f"baseline ({path.name})")
        if f.status is Status.FAIL and f.fingerprint in known
        else f
        for f in result.findings
    ]
    return replace(result, findings=findings)
