"""Baselines: keyed by file + resource type/name + rule; only new findings stay failing."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from shareguard.core.errors import ConfigError
from shareguard.core.finding import Status
from shareguard.posture.baseline import apply_baseline, write_baseline
from shareguard.scan import run_path_scan

DOCKERFILE = "FROM python:3.11-slim\nRUN curl -k https://a/x.tgz -o /x.tgz\nUSER 1000\n"


def _scan(root: Path):  # type: ignore[no-untyped-def]
    return run_path_scan(root, command="config", capabilities=frozenset({"posture"}))


def test_only_new_findings_fail(tmp_path: Path) -> None:
    ws = tmp_path / "ws"
    (ws / "a").mkdir(parents=True)
    (ws / "a" / "Dockerfile").write_text(DOCKERFILE)
    base = tmp_path / "baseline.json"
    first = _scan(ws)
    n = write_baseline(first, base)
    assert n == len(first.failing()) > 0
    doc = json.loads(base.read_text())
    assert {"file", "resource_type", "resource", "rule", "fingerprint"} <= set(doc["findings"][0])

    # Unrelated edit moves lines; a second curl -k is a new occurrence; a new file with the same content is new.
    (ws / "a" / "Dockerfile").write_text("# header\n" + DOCKERFILE + "RUN curl -k https://b/y.tgz -o /y.tgz\n")
    (ws / "b").mkdir()
    (ws / "b" / "Dockerfile").write_text(DOCKERFILE)
    result = apply_baseline(_scan(ws), base)
    failing = {(f.resource.path, f.rule_id, f.evidence) for f in result.failing()}
    assert all(path == "b/Dockerfile" or rule == "DOCKERFILE-016" for path, rule, _ in failing)
    assert ("a/Dockerfile", "DOCKERFILE-016") in {(p, r) for p, r, _ in failing}
    a16 = [f for f in result.findings if f.resource.path == "a/Dockerfile" and f.rule_id == "DOCKERFILE-016"]
    assert sorted(f.status for f in a16) == [Status.FAIL, Status.WAIVED]
    waived = [f for f in result.findings if f.status is Status.WAIVED]
    assert waived and all(f.waiver and f.waiver.startswith("baseline") for f in waived)
    assert {f.resource.path for f in result.failing()} >= {"b/Dockerfile"}


def test_bad_baseline_files(tmp_path: Path) -> None:
    (tmp_path / "Dockerfile").write_text(DOCKERFILE)
    result = _scan(tmp_path)
    bad = tmp_path / "b.json"
    bad.write_text("{not json")
    with pytest.raises(ConfigError, match="invalid JSON"):
        apply_baseline(result, bad)
    bad.write_text('{"findings": [{"file": 1}]}')
    with pytest.raises(ConfigError, match="entry #1"):
        apply_baseline(result, bad)
    with pytest.raises(ConfigError, match="not found"):
        apply_baseline(result, tmp_path / "missing.json")
