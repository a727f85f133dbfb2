"""Every Dockerfile and Kubernetes rule has a failing and a passing fixture, and they behave."""

from __future__ import annotations

from importlib import resources

import pytest
from posture_helpers import FIXTURES, ids, run_file

from shareguard.core.rules import load_rules_yaml


def _rule_ids(filename: str) -> list[str]:
    text = resources.files("shareguard.posture").joinpath(f"rules/{filename}").read_text(encoding="utf-8")
    return sorted(load_rules_yaml(text, filename))


CASES = [("posture.dockerfile", "dockerfile", rid, "Dockerfile") for rid in _rule_ids("dockerfile.yaml")] + [
    ("posture.kubernetes", "kubernetes", rid, "yaml") for rid in _rule_ids("kubernetes.yaml")
]


def test_rule_files_cover_about_25_dockerfile_rules() -> None:
    assert len(_rule_ids("dockerfile.yaml")) >= 25
    assert len(_rule_ids("kubernetes.yaml")) >= 15


@pytest.mark.parametrize(("analyzer", "folder", "rule_id", "ext"), CASES, ids=[c[2] for c in CASES])
def test_rule_fires_on_its_failing_fixture(analyzer: str, folder: str, rule_id: str, ext: str) -> None:
    path = FIXTURES / folder / "cases" / rule_id / f"fail.{ext}"
    assert path.is_file(), f"missing failing fixture for {rule_id}"
    findings, ctx = run_file(analyzer, path)
    assert not ctx.issues
    hits = [f for f in findings if f.rule_id == rule_id]
    assert hits, f"{rule_id} did not fire on {path}"
    for f in hits:
        assert f.location.line is not None and f.location.line >= 1
        assert f.control_ids and f.remediation.text


@pytest.mark.parametrize(("analyzer", "folder", "rule_id", "ext"), CASES, ids=[c[2] for c in CASES])
def test_rule_is_quiet_on_its_passing_fixture(analyzer: str, folder: str, rule_id: str, ext: str) -> None:
    path = FIXTURES / folder / "cases" / rule_id / f"pass.{ext}"
    assert path.is_file(), f"missing passing fixture for {rule_id}"
    findings, ctx = run_file(analyzer, path)
    assert not ctx.issues
    assert rule_id not in ids(findings)
