"""STORAGE-001 means the same in Terraform as in CloudFormation: a bucket with no public access block fails."""

from __future__ import annotations

import json
from pathlib import Path

from cloud_helpers import scan

BUCKET = 'resource "aws_s3_bucket" "data" {\n  bucket = "ml-training-data"\n}\n'
PAB = """resource "aws_s3_bucket_public_access_block" "data" {
  bucket                  = aws_s3_bucket.data.id
  block_public_acls       = true
  block_public_policy     = true
  ignore_public_acls      = true
  restrict_public_buckets = true
}
"""
CFN = """Resources:
  Data:
    Type: AWS::S3::Bucket
    Properties:
      BucketName: ml-training-data
"""


def _storage_001(tmp_path: Path) -> list[tuple[str, str | None]]:
    result = scan(tmp_path)
    return [(f.resource.path, f.resource.name) for f in result.findings if f.rule_id == "STORAGE-001"]


def test_missing_block_fails_in_terraform_as_in_cloudformation(tmp_path: Path) -> None:
    (tmp_path / "tf").mkdir()
    (tmp_path / "tf" / "main.tf").write_text(BUCKET)
    (tmp_path / "stack.yaml").write_text(CFN)
    assert sorted(_storage_001(tmp_path)) == [("stack.yaml", "Data"), ("tf/main.tf", "aws_s3_bucket.data")]


def test_block_in_another_file_of_the_module_passes(tmp_path: Path) -> None:
    (tmp_path / "main.tf").write_text(BUCKET)
    (tmp_path / "access.tf").write_text(PAB)
    result = scan(tmp_path)
    assert not [f for f in result.findings if f.rule_id == "STORAGE-001"]
    duty = result.coverage.duties["STORAGE-C-02"]
    assert "STORAGE-001" in duty.rules and "main.tf#aws_s3_bucket.data" in duty.resources


def test_block_of_another_module_does_not_cover_the_bucket(tmp_path: Path) -> None:
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    (tmp_path / "a" / "main.tf").write_text(BUCKET)
    (tmp_path / "b" / "main.tf").write_text(BUCKET + PAB)
    assert _storage_001(tmp_path) == [("a/main.tf", "aws_s3_bucket.data")]


def test_account_wide_block_covers_every_bucket(tmp_path: Path) -> None:
    account = PAB.replace("aws_s3_bucket_public_access_block", "aws_s3_account_public_access_block").replace(
        "  bucket                  = aws_s3_bucket.data.id\n", ""
    )
    (tmp_path / "main.tf").write_text(BUCKET + account)
    assert _storage_001(tmp_path) == []


def test_unresolvable_block_reference_leaves_the_bucket_incomplete(tmp_path: Path) -> None:
    (tmp_path / "main.tf").write_text(BUCKET + PAB.replace("aws_s3_bucket.data.id", "var.bucket_id"))
    result = scan(tmp_path)
    assert _storage_001(tmp_path) == []
    assert any("STORAGE-001" in g.reason for g in result.coverage.duties["STORAGE-C-02"].gaps)


def test_plan_json_block_resolved_from_the_configuration(tmp_path: Path) -> None:
    plan = {
        "format_version": "1.2",
        "terraform_version": "1.9.8",
        "resource_changes": [
            {
                "address": "aws_s3_bucket.data",
                "mode": "managed",
                "type": "aws_s3_bucket",
                "name": "data",
                "change": {"actions": ["create"], "after": {"bucket": "ml-training-data"}, "after_unknown": {}},
            },
            {
                "address": "aws_s3_bucket_public_access_block.data",
                "mode": "managed",
                "type": "aws_s3_bucket_public_access_block",
                "name": "data",
                "change": {
                    "actions": ["create"],
                    "after": {
                        "block_public_acls": True,
                        "block_public_policy": True,
                        "ignore_public_acls": True,
                        "restrict_public_buckets": True,
                    },
                    "after_unknown": {"bucket": True},
                },
            },
        ],
        "configuration": {
            "root_module": {
                "resources": [
                    {"address": "aws_s3_bucket.data", "type": "aws_s3_bucket", "name": "data"},
                    {
                        "address": "aws_s3_bucket_public_access_block.data",
                        "type": "aws_s3_bucket_public_access_block",
                        "name": "data",
                        "expressions": {"bucket": {"references": ["aws_s3_bucket.data.id", "aws_s3_bucket.data"]}},
                    },
                ]
            }
        },
    }
    (tmp_path / "plan.json").write_text(json.dumps(plan, indent=2))
    assert _storage_001(tmp_path) == []
    plan["resource_changes"].pop()  # type: ignore[attr-defined]
    (tmp_path / "plan.json").write_text(json.dumps(plan, indent=2))
    assert _storage_001(tmp_path) == [("plan.json", "aws_s3_bucket.data")]
