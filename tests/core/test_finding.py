"""The finding model: control ids required, fingerprints stable across runs and edits."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from shareguard.core.finding import Finding, Remediation, Status
from shareguard.core.resource import Location, Resource
from shareguard.core.severity import Severity


def _f(**kw: object) -> Finding:
    base: dict[str, object] = {
        "rule_id": "DOCKERFILE-001",
        "control_ids": ("DLC-C-02",),
        "severity": Severity.HIGH,
        "title": "Base image not pinned",
        "resource": Resource(type="dockerfile", path="docker/train/Dockerfile"),
        "location": Location(line=4),
        "evidence": "FROM pytorch/pytorch:latest",
        "remediation": Remediation(text="Pin the base image by digest"),
    }
    base.update(kw)
    return Finding.model_validate(base)


def test_fingerprint_is_deterministic_and_ignores_lines_and_wording() -> None:
    a = _f()
    assert a.fingerprint == _f().fingerprint
    assert len(a.fingerprint) == 32
    assert a.fingerprint == _f(location=Location(line=40), title="other words", severity=Severity.LOW).fingerprint
    assert a.with_status(Status.WAIVED, "r").fingerprint == a.fingerprint


@pytest.mark.parametrize(
    "change",
    [
        {"rule_id": "DOCKERFILE-002"},
        {"resource": Resource(type="dockerfile", path="docker/serve/Dockerfile")},
        {"evidence": "FROM python:latest"},
        {"location": Location(line=4, field_path="spec.containers[1].image")},
        {"properties": {"fingerprint_key": "k"}},
    ],
)
def test_fingerprint_tells_different_findings_apart(change: dict[str, object]) -> None:
    assert _f(**change).fingerprint != _f().fingerprint


def test_a_finding_must_name_a_control() -> None:
    with pytest.raises(ValidationError, match="names no control"):
        _f(control_ids=())


def test_fingerprints_stable_across_two_real_runs() -> None:
    from shareguard.scan import run_path_scan

    example = Path(__file__).resolve().parents[2] / "examples" / "ml-platform"
    first = run_path_scan(example)
    second = run_path_scan(example)
    assert [f.fingerprint for f in first.findings] == [f.fingerprint for f in second.findings]
    assert len({f.fingerprint for f in first.findings}) == len(first.findings)
