"""EKS-004: the cluster version against the bundled EKS release calendar, on the scan's date."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from cloud_helpers import scan

from shareguard.core.result import ScanResult
from shareguard.posture.checks._util import data
from shareguard.posture.checks.eks_versions import calendar, judge
from shareguard.posture.model import Unresolved, Violation

TF = """resource "aws_eks_cluster" "ml" {
  name     = "ml"
  role_arn = aws_iam_role.cluster.arn
  version  = %s
  vpc_config {
    subnet_ids = ["subnet-1"]
  }
}
"""
CFN = """Resources:
  Ml:
    Type: AWS::EKS::Cluster
    Properties:
      Name: ml
      RoleArn: arn:aws:iam::123456789012:role/eks
      Version: "%s"
      ResourcesVpcConfig:
        SubnetIds: [subnet-1]
"""


def test_calendar_rows_name_their_source() -> None:
    doc = data("eks_versions")
    assert doc["source"].startswith("https://docs.aws.amazon.com/eks/")
    assert doc["retrieved"]
    assert (1, 29) in calendar().rows and (1, 34) in calendar().rows
    for version in doc["versions"]:
        major, minor = (int(p) for p in version.split("."))
        std, ext = calendar().rows[(major, minor)]
        assert std < ext, version


@pytest.mark.parametrize(
    ("version", "today", "outcome"),
    [
        ("1.34", date(2026, 6, 1), None),  # in standard support until 2026-12-02
        ("1.34", date(2026, 12, 2), "standard support ended"),
        ("1.31", date(2026, 12, 3), "extended support ended"),
        ("1.32.5", date(2026, 4, 1), "standard support ended"),
        ("1.28", date(2024, 1, 1), "older than every version"),
        ("1.36", date(2026, 12, 3), "not in the bundled EKS calendar"),
        ("${var.k8s_version}", date(2026, 12, 3), "the cluster version is"),
    ],
)
def test_judge(version: str, today: date, outcome: str | None) -> None:
    got = judge(version, today)
    if outcome is None:
        assert got is None
    elif isinstance(got, Violation):
        assert outcome in (got.detail or "")
    else:
        assert isinstance(got, Unresolved) and outcome in got.reason


def _eks004(result: ScanResult) -> list[int | None]:
    return [f.location.line for f in result.findings if f.rule_id == "EKS-004"]


def test_terraform_and_cloudformation_alike(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SHAREGUARD_NOW", "2026-07-01T00:00:00Z")
    (tmp_path / "old.tf").write_text(TF % '"1.32"')  # standard support ended 2026-03-23
    (tmp_path / "stack.yaml").write_text(CFN % "1.33")  # until 2026-07-29
    result = scan(tmp_path)
    assert sorted(f.resource.path for f in result.findings if f.rule_id == "EKS-004") == ["old.tf"]
    assert _eks004(result) == [4]
    assert "EKS-004" in result.coverage.duties["KUBERNETES-C-05"].rules
    (tmp_path / "stack.yaml").write_text(CFN % "1.31")
    result = scan(tmp_path)
    assert sorted(f.resource.path for f in result.findings if f.rule_id == "EKS-004") == ["old.tf", "stack.yaml"]


def test_unknown_version_is_unresolved(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SHAREGUARD_NOW", "2026-08-01T00:00:00Z")
    (tmp_path / "main.tf").write_text(TF % "var.k8s_version")
    result = scan(tmp_path)
    assert not _eks004(result)
    assert any("EKS-004" in g.reason for g in result.coverage.duties["KUBERNETES-C-05"].gaps)
