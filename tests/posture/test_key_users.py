"""KMS-004 / KMS-005: a resource that encrypts with a key of the scan that is not rotated or is open to every
principal gets a finding naming the key, in Terraform (HCL and plan JSON) and CloudFormation. Fixtures written
from the AWS and Google providers (aws_kms_key, aws_kms_alias, aws_kms_key_policy, google_kms_crypto_key,
google_kms_crypto_key_iam_member) and the CloudFormation AWS::KMS::* references."""

from __future__ import annotations

import json
from pathlib import Path

from cloud_helpers import scan

from shareguard.core.result import ScanResult

KEY_BAD = """resource "aws_kms_key" "ml" {
  description         = "notebooks"
  enable_key_rotation = false
  policy = jsonencode({
    Version   = "2012-10-17"
    Statement = [{ Sid = "Open", Effect = "Allow", Principal = "*", Action = "kms:*", Resource = "*" }]
  })
}
"""
KEY_GOOD = """resource "aws_kms_key" "ml" {
  description         = "notebooks"
  enable_key_rotation = true
  policy = jsonencode({
    Version   = "2012-10-17"
    Statement = [{
      Sid = "Account", Effect = "Allow", Principal = { AWS = "arn:aws:iam::123456789012:root" },
      Action = "kms:*", Resource = "*"
    }]
  })
}
"""
NOTEBOOK = """resource "aws_sagemaker_notebook_instance" "nb" {
  name          = "research"
  role_arn      = "arn:aws:iam::123456789012:role/nb"
  instance_type = "ml.t3.medium"
  kms_key_id    = aws_kms_key.ml.arn
}
"""


def _hits(result: ScanResult, rule: str) -> list[tuple[str | None, str, str | None]]:
    return [(f.resource.name, f.title, f.evidence) for f in result.findings if f.rule_id == rule]


def test_unrotated_public_key_is_named_on_the_notebook(tmp_path: Path) -> None:
    (tmp_path / "main.tf").write_text(KEY_BAD + NOTEBOOK)
    result = scan(tmp_path)
    rot = _hits(result, "KMS-004")
    assert [n for n, _, _ in rot] == ["aws_sagemaker_notebook_instance.nb"]
    assert "aws_kms_key.ml" in rot[0][1] and "kms_key_id" in (rot[0][2] or "")
    assert [n for n, _, _ in _hits(result, "KMS-005")] == ["aws_sagemaker_notebook_instance.nb"]
    assert {"KMS-001", "KMS-003"} <= {f.rule_id for f in result.findings}  # the key itself, as before


def test_rotated_private_key_passes_from_evidence(tmp_path: Path) -> None:
    (tmp_path / "main.tf").write_text(KEY_GOOD + NOTEBOOK)
    result = scan(tmp_path)
    assert not _hits(result, "KMS-004") and not _hits(result, "KMS-005")
    for duty, rule in (("KMS-C-02", "KMS-004"), ("KMS-C-03", "KMS-005")):
        cov = result.coverage.duties[duty]
        assert rule in cov.rules and "main.tf#aws_sagemaker_notebook_instance.nb" in cov.resources
        assert not [g for g in cov.gaps if rule in g.reason]


def test_key_policy_attached_separately_and_alias_reference(tmp_path: Path) -> None:
    key = """resource "aws_kms_key" "ml" {
  enable_key_rotation = true
}
resource "aws_kms_alias" "ml" {
  name          = "alias/ml-notebooks"
  target_key_id = aws_kms_key.ml.key_id
}
resource "aws_kms_key_policy" "ml" {
  key_id = aws_kms_key.ml.id
  policy = jsonencode({
    Version   = "2012-10-17"
    Statement = [{ Effect = "Allow", Principal = { AWS = "*" }, Action = "kms:Decrypt", Resource = "*" }]
  })
}
"""
    (tmp_path / "main.tf").write_text(key + NOTEBOOK.replace("aws_kms_key.ml.arn", '"alias/ml-notebooks"'))
    result = scan(tmp_path)
    assert not _hits(result, "KMS-004")
    assert [n for n, _, _ in _hits(result, "KMS-005")] == ["aws_sagemaker_notebook_instance.nb"]


def test_key_outside_the_scan_is_unresolved_and_aws_managed_keys_pass(tmp_path: Path) -> None:
    (tmp_path / "main.tf").write_text(
        NOTEBOOK.replace("aws_kms_key.ml.arn", "var.key_arn")
        + NOTEBOOK.replace('"nb"', '"managed"').replace("aws_kms_key.ml.arn", '"alias/aws/sagemaker"')
    )
    result = scan(tmp_path)
    assert not _hits(result, "KMS-004")
    gaps = [g for g in result.coverage.duties["KMS-C-02"].gaps if "KMS-004" in g.reason]
    assert [g.path for g in gaps] == ["main.tf: aws_sagemaker_notebook_instance.nb"]
    assert "main.tf#aws_sagemaker_notebook_instance.managed" in result.coverage.duties["KMS-C-02"].resources


def test_unknown_rotation_of_a_scanned_key_is_unresolved(tmp_path: Path) -> None:
    (tmp_path / "main.tf").write_text(KEY_GOOD.replace("= true", "= var.rotate") + NOTEBOOK)
    result = scan(tmp_path)
    assert not _hits(result, "KMS-004")
    assert any("KMS-004" in g.reason for g in result.coverage.duties["KMS-C-02"].gaps)


def test_cloud_kms_key_public_member_and_rotation_named_on_vertex_and_gke(tmp_path: Path) -> None:
    (tmp_path / "main.tf").write_text(
        """resource "google_kms_crypto_key" "ml" {
  name     = "ml"
  key_ring = google_kms_key_ring.ml.id
}
resource "google_kms_crypto_key_iam_member" "pub" {
  crypto_key_id = google_kms_crypto_key.ml.id
  role          = "roles/cloudkms.cryptoKeyEncrypterDecrypter"
  member        = "allAuthenticatedUsers"
}
resource "google_vertex_ai_dataset" "ds" {
  display_name        = "ds"
  metadata_schema_uri = "gs://google-cloud-aiplatform/schema/dataset/metadata/image_1.0.0.yaml"
  encryption_spec {
    kms_key_name = google_kms_crypto_key.ml.id
  }
}
resource "google_container_cluster" "gke" {
  name               = "gke"
  location           = "us-central1"
  initial_node_count = 1
  database_encryption {
    state    = "ENCRYPTED"
    key_name = google_kms_crypto_key.ml.id
  }
}
"""
    )
    result = scan(tmp_path)
    assert sorted(n or "" for n, _, _ in _hits(result, "KMS-004")) == [
        "google_container_cluster.gke",
        "google_vertex_ai_dataset.ds",
    ]
    assert len(_hits(result, "KMS-005")) == 2
    (tmp_path / "main.tf").write_text(
        (tmp_path / "main.tf")
        .read_text()
        .replace(
            "key_ring = google_kms_key_ring.ml.id",
            'key_ring = google_kms_key_ring.ml.id\n  rotation_period = "7776000s"',
        )
        .replace("allAuthenticatedUsers", "serviceAccount:svc@p.iam.gserviceaccount.com")
    )
    result = scan(tmp_path)
    assert not _hits(result, "KMS-004") and not _hits(result, "KMS-005")


CFN = """AWSTemplateFormatVersion: "2010-09-09"
Resources:
  MlKey:
    Type: AWS::KMS::Key
    Properties:
      EnableKeyRotation: {rotation}
      KeyPolicy:
        Version: "2012-10-17"
        Statement:
          - Sid: Root
            Effect: Allow
            Principal:
              AWS: {principal}
            Action: kms:*
            Resource: "*"
  MlAlias:
    Type: AWS::KMS::Alias
    Properties:
      AliasName: alias/ml
      TargetKeyId: !Ref MlKey
  Notebook:
    Type: AWS::SageMaker::NotebookInstance
    Properties:
      InstanceType: ml.t3.medium
      RoleArn: arn:aws:iam::123456789012:role/nb
      KmsKeyId: !GetAtt MlKey.Arn
  Endpoint:
    Type: AWS::SageMaker::EndpointConfig
    Properties:
      KmsKeyId: !Ref MlAlias
      ProductionVariants: []
"""


def test_cloudformation_getatt_and_alias(tmp_path: Path) -> None:
    (tmp_path / "stack.yaml").write_text(CFN.format(rotation="false", principal='"*"'))
    result = scan(tmp_path)
    assert sorted(n or "" for n, _, _ in _hits(result, "KMS-004")) == ["Endpoint", "Notebook"]
    assert sorted(n or "" for n, _, _ in _hits(result, "KMS-005")) == ["Endpoint", "Notebook"]
    (tmp_path / "stack.yaml").write_text(
        CFN.format(rotation="true", principal="!Sub arn:${AWS::Partition}:iam::${AWS::AccountId}:root")
    )
    result = scan(tmp_path)
    assert not _hits(result, "KMS-004") and not _hits(result, "KMS-005")
    assert "stack.yaml#Notebook" in result.coverage.duties["KMS-C-03"].resources


def test_plan_json_key_known_after_apply_resolved_from_configuration(tmp_path: Path) -> None:
    plan = {
        "format_version": "1.2",
        "terraform_version": "1.9.8",
        "resource_changes": [
            {
                "address": "aws_kms_key.ml",
                "mode": "managed",
                "type": "aws_kms_key",
                "name": "ml",
                "change": {
                    "actions": ["create"],
                    "after": {"enable_key_rotation": False},
                    "after_unknown": {"arn": True},
                },
            },
            {
                "address": "aws_sagemaker_notebook_instance.nb",
                "mode": "managed",
                "type": "aws_sagemaker_notebook_instance",
                "name": "nb",
                "change": {
                    "actions": ["create"],
                    "after": {"name": "research", "role_arn": "arn:aws:iam::123456789012:role/nb"},
                    "after_unknown": {"kms_key_id": True},
                },
            },
        ],
        "configuration": {
            "root_module": {
                "resources": [
                    {
                        "address": "aws_sagemaker_notebook_instance.nb",
                        "expressions": {"kms_key_id": {"references": ["aws_kms_key.ml.arn", "aws_kms_key.ml"]}},
                    }
                ]
            }
        },
    }
    (tmp_path / "plan.json").write_text(json.dumps(plan, indent=2))
    result = scan(tmp_path)
    assert [n for n, _, _ in _hits(result, "KMS-004")] == ["aws_sagemaker_notebook_instance.nb"]


def test_finding_points_at_the_key_attribute_line(tmp_path: Path) -> None:
    text = KEY_BAD + NOTEBOOK
    (tmp_path / "main.tf").write_text(text)
    want = text.splitlines().index("  kms_key_id    = aws_kms_key.ml.arn") + 1
    found = [f for f in scan(tmp_path).findings if f.rule_id == "KMS-004"]
    assert [(f.location.line, f.location.field_path) for f in found] == [(want, "kms_key_id")]


def test_key_policy_from_a_policy_document_data_source(tmp_path: Path) -> None:
    text = (
        """data "aws_iam_policy_document" "key" {
  statement {
    actions   = ["kms:Decrypt"]
    resources = ["*"]
    principals {
      type        = "AWS"
      identifiers = ["*"]
    }
  }
}
resource "aws_kms_key" "ml" {
  enable_key_rotation = true
  policy              = data.aws_iam_policy_document.key.json
}
"""
        + NOTEBOOK
    )
    (tmp_path / "main.tf").write_text(text)
    result = scan(tmp_path)
    assert [n for n, _, _ in _hits(result, "KMS-005")] == ["aws_sagemaker_notebook_instance.nb"]
    (tmp_path / "main.tf").write_text(text.replace("data.aws_iam_policy_document.key.json", "var.key_policy"))
    result = scan(tmp_path)
    assert not _hits(result, "KMS-005")
    assert any("KMS-005" in g.reason for g in result.coverage.duties["KMS-C-03"].gaps)


def test_values_that_name_no_key_are_not_judged(tmp_path: Path) -> None:
    (tmp_path / "stack.yaml").write_text(
        """Resources:
  Queue:
    Type: AWS::SQS::Queue
    Properties:
      KmsDataKeyReusePeriodSeconds: "300"
      SqsManagedSseEnabled: "true"
"""
    )
    cov = scan(tmp_path).coverage.duties.get("KMS-C-02")
    assert cov is None or (not cov.gaps and "stack.yaml#Queue" not in cov.resources)
