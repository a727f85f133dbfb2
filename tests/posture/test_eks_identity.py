"""EKS-010: an EKS cluster without IRSA or EKS Pod Identity in its module / plan / template fails where its IAM
setup is in the scan, and is unresolved (never passed) where it may be elsewhere. Fixtures written from the AWS
provider (aws_eks_cluster, aws_iam_openid_connect_provider, aws_eks_pod_identity_association, aws_eks_addon)
and the CloudFormation AWS::EKS::* / AWS::IAM::OIDCProvider references."""

from __future__ import annotations

import json
from pathlib import Path

from cloud_helpers import scan

from shareguard.core.result import ScanResult

ROLE = """resource "aws_iam_role" "cluster" {
  name = "ml-eks-cluster"
  assume_role_policy = jsonencode({
    Version   = "2012-10-17"
    Statement = [{ Effect = "Allow", Action = "sts:AssumeRole", Principal = { Service = "eks.amazonaws.com" } }]
  })
}
"""
CLUSTER = """resource "aws_eks_cluster" "ml" {
  name     = "ml"
  role_arn = aws_iam_role.cluster.arn
  vpc_config {
    subnet_ids = ["subnet-1", "subnet-2"]
  }
}
"""
OIDC = """resource "aws_iam_openid_connect_provider" "ml" {
  url             = aws_eks_cluster.ml.identity[0].oidc[0].issuer
  client_id_list  = ["sts.amazonaws.com"]
  thumbprint_list = []
}
"""
ADDON = """resource "aws_eks_addon" "pod_identity" {
  cluster_name = aws_eks_cluster.ml.name
  addon_name   = "eks-pod-identity-agent"
}
"""
ASSOCIATION = """resource "aws_eks_pod_identity_association" "trainer" {
  cluster_name    = "ml"
  namespace       = "training"
  service_account = "trainer"
  role_arn        = "arn:aws:iam::123456789012:role/trainer"
}
"""


def _fails(result: ScanResult) -> list[str | None]:
    return [f.resource.name for f in result.findings if f.rule_id == "EKS-010"]


def _gaps(result: ScanResult) -> list[str]:
    return [g.reason for g in result.coverage.duties["IAM-C-04"].gaps if "EKS-010" in g.reason]


def test_cluster_with_its_iam_but_no_workload_identity_fails(tmp_path: Path) -> None:
    (tmp_path / "main.tf").write_text(ROLE + CLUSTER)
    result = scan(tmp_path)
    assert _fails(result) == ["aws_eks_cluster.ml"]


def test_irsa_provider_addon_or_association_passes(tmp_path: Path) -> None:
    for extra in (OIDC, ADDON, ASSOCIATION):
        (tmp_path / "main.tf").write_text(ROLE + CLUSTER)
        (tmp_path / "identity.tf").write_text(extra)
        result = scan(tmp_path)
        assert not _fails(result) and not _gaps(result), extra
        assert "main.tf#aws_eks_cluster.ml" in result.coverage.duties["IAM-C-04"].resources


def test_other_addons_are_no_evidence(tmp_path: Path) -> None:
    (tmp_path / "main.tf").write_text(ROLE + CLUSTER + ADDON.replace("eks-pod-identity-agent", "vpc-cni"))
    assert _fails(scan(tmp_path)) == ["aws_eks_cluster.ml"]


def test_auto_mode_runs_the_agent(tmp_path: Path) -> None:
    auto = CLUSTER.replace("  vpc_config {", "  compute_config {\n    enabled = true\n  }\n  vpc_config {")
    (tmp_path / "main.tf").write_text(ROLE + auto)
    assert not _fails(scan(tmp_path))


def test_iam_setup_elsewhere_is_unresolved_not_failed(tmp_path: Path) -> None:
    (tmp_path / "main.tf").write_text(CLUSTER.replace("aws_iam_role.cluster.arn", "var.cluster_role_arn"))
    result = scan(tmp_path)
    assert not _fails(result)
    assert any("not in the scanned files" in g for g in _gaps(result))
    assert "main.tf#aws_eks_cluster.ml" not in result.coverage.duties["IAM-C-04"].resources


def test_provider_naming_an_unresolvable_cluster_leaves_the_module_unresolved(tmp_path: Path) -> None:
    (tmp_path / "main.tf").write_text(
        ROLE + CLUSTER + OIDC.replace("aws_eks_cluster.ml.identity[0].oidc[0].issuer", "var.issuer")
    )
    result = scan(tmp_path)
    assert not _fails(result) and any("cannot be resolved" in g for g in _gaps(result))


CFN = """AWSTemplateFormatVersion: "2010-09-09"
Resources:
  ClusterRole:
    Type: AWS::IAM::Role
    Properties:
      AssumeRolePolicyDocument:
        Version: "2012-10-17"
        Statement:
          - Effect: Allow
            Principal:
              Service: eks.amazonaws.com
            Action: sts:AssumeRole
  Cluster:
    Type: AWS::EKS::Cluster
    Properties:
      Name: ml
      RoleArn: !GetAtt ClusterRole.Arn
      ResourcesVpcConfig:
        SubnetIds: [subnet-1, subnet-2]
{extra}
"""


def test_cloudformation_oidc_provider_and_pod_identity(tmp_path: Path) -> None:
    (tmp_path / "stack.yaml").write_text(CFN.format(extra=""))
    assert _fails(scan(tmp_path)) == ["Cluster"]
    oidc = """  Irsa:
    Type: AWS::IAM::OIDCProvider
    Properties:
      Url: !GetAtt Cluster.OpenIdConnectIssuerUrl
      ClientIdList: [sts.amazonaws.com]"""
    (tmp_path / "stack.yaml").write_text(CFN.format(extra=oidc))
    assert not _fails(scan(tmp_path))
    assoc = """  Trainer:
    Type: AWS::EKS::PodIdentityAssociation
    Properties:
      ClusterName: !Ref Cluster
      Namespace: training
      ServiceAccount: trainer
      RoleArn: arn:aws:iam::123456789012:role/trainer"""
    (tmp_path / "stack.yaml").write_text(CFN.format(extra=assoc))
    result = scan(tmp_path)
    assert not _fails(result) and "stack.yaml#Cluster" in result.coverage.duties["IAM-C-04"].resources


def test_plan_json_provider_resolved_from_configuration(tmp_path: Path) -> None:
    def change(address: str, rtype: str, after: dict[str, object], unknown: dict[str, object]) -> dict[str, object]:
        name = address.rsplit(".", 1)[-1]
        return {
            "address": address,
            "mode": "managed",
            "type": rtype,
            "name": name,
            "change": {"actions": ["create"], "after": after, "after_unknown": unknown},
        }

    plan = {
        "format_version": "1.2",
        "terraform_version": "1.9.8",
        "resource_changes": [
            change("aws_iam_role.cluster", "aws_iam_role", {"name": "ml-eks-cluster"}, {"arn": True}),
            change("aws_eks_cluster.ml", "aws_eks_cluster", {"name": "ml"}, {"role_arn": True, "identity": True}),
            change("aws_iam_openid_connect_provider.ml", "aws_iam_openid_connect_provider", {}, {"url": True}),
        ],
        "configuration": {
            "root_module": {
                "resources": [
                    {
                        "address": "aws_eks_cluster.ml",
                        "expressions": {
                            "role_arn": {"references": ["aws_iam_role.cluster.arn", "aws_iam_role.cluster"]}
                        },
                    },
                    {
                        "address": "aws_iam_openid_connect_provider.ml",
                        "expressions": {
                            "url": {
                                "references": [
                                    "aws_eks_cluster.ml.identity[0].oidc[0].issuer",
                                    "aws_eks_cluster.ml.identity[0].oidc[0]",
                                    "aws_eks_cluster.ml",
                                ]
                            }
                        },
                    },
                ]
            }
        },
    }
    (tmp_path / "plan.json").write_text(json.dumps(plan, indent=2))
    result = scan(tmp_path)
    assert not _fails(result) and not _gaps(result)
    plan["resource_changes"] = plan["resource_changes"][:2]  # type: ignore[index]
    (tmp_path / "plan.json").write_text(json.dumps(plan, indent=2))
    assert _fails(scan(tmp_path)) == ["aws_eks_cluster.ml"]
