"""The finding model: control ids required, fingerprints stable across runs and edits."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from shareguard.core.finding import Finding, Remediation, Status, compute_fingerprint
from shareguard.core.resource import Location, Resource
from shareguard.core.rules import RuleMeta
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


def _meta() -> RuleMeta:
    return RuleMeta(
        id="DOCKERFILE-001",
        title="Base image not pinned",
        severity=Severity.HIGH,
        control_ids=("DLC-C-02",),
        remediation="Pin the base image by digest",
        cli="docker pull x@sha256:…",
    )


def test_rule_findings_equal_validated_findings() -> None:
    # RuleMeta.finding skips re-validation of parts it knows are valid; the result must not differ.
    meta = _meta()
    resource = Resource(type="dockerfile", path="Dockerfile", name="train")
    location = Location(line=4, field_path="FROM")
    fast = meta.finding(resource, location=location, evidence="FROM x:latest", properties={"k": "v"})
    slow = Finding(
        rule_id=meta.id,
        control_ids=meta.control_ids,
        severity=meta.severity,
        severity_source=fast.severity_source,
        title=meta.title,
        description=None,
        resource=resource,
        location=location,
        evidence="FROM x:latest",
        remediation=Remediation(text=meta.remediation, command=meta.cli, snippet=None),
        analyzer=None,
        properties={"k": "v"},
    )
    assert fast == slow
    assert fast.fingerprint == slow.fingerprint == compute_fingerprint(fast)
    assert fast.model_fields_set == slow.model_fields_set
    assert fast.model_dump(mode="json") == slow.model_dump(mode="json")
    assert fast.with_status(Status.WAIVED, "why").status is Status.WAIVED


def test_rule_findings_with_unexpected_part_types_are_validated() -> None:
    meta = _meta()
    coerced = meta.finding(Resource(type="t", path="p"), severity="low")  # type: ignore[arg-type]
    assert coerced.severity is Severity.LOW
    with pytest.raises(ValidationError):
        meta.finding({"type": 1}, location=Location())  # type: ignore[arg-type]
