"""IAM-011 / IAM-012: the policies of a SageMaker resource's execution role, judged on that resource, in Terraform
(HCL and plan JSON) and CloudFormation. Fixtures written from the AWS provider (aws_iam_role,
aws_iam_role_policy, aws_iam_role_policy_attachment, aws_iam_policy, aws_sagemaker_*) and the CloudFormation
AWS::IAM::* / AWS::SageMaker::* references."""

from __future__ import annotations

import json
from pathlib import Path

from cloud_helpers import scan

from shareguard.core.result import ScanResult

ROLE = """resource "aws_iam_role" "exec" {
  name = "nb-exec"
  assume_role_policy = jsonencode({
    Version   = "2012-10-17"
    Statement = [{ Effect = "Allow", Action = "sts:AssumeRole", Principal = { Service = "sagemaker.amazonaws.com" } }]
  })
}
"""
NOTEBOOK = """resource "aws_sagemaker_notebook_instance" "nb" {
  name          = "research"
  role_arn      = aws_iam_role.exec.arn
  instance_type = "ml.t3.medium"
}
"""
SCOPED = """data "aws_iam_policy_document" "scoped" {
  statement {
    sid       = "Data"
    actions   = ["s3:GetObject", "s3:PutObject"]
    resources = ["arn:aws:s3:::ml-data/notebooks/*"]
  }
}
resource "aws_iam_role_policy" "scoped" {
  name   = "scoped"
  role   = aws_iam_role.exec.id
  policy = data.aws_iam_policy_document.scoped.json
}
"""


def _hits(result: ScanResult, rule: str) -> list[tuple[str | None, str]]:
    return [(f.resource.name, f.title) for f in result.findings if f.rule_id == rule]


def _gaps(result: ScanResult, rule: str) -> list[str]:
    return [g.reason for g in result.coverage.duties["IAM-C-02"].gaps if rule in g.reason]


def test_scoped_role_passes_from_evidence(tmp_path: Path) -> None:
    (tmp_path / "main.tf").write_text(ROLE + NOTEBOOK + SCOPED)
    result = scan(tmp_path)
    assert not _hits(result, "IAM-011") and not _hits(result, "IAM-012")
    duty = result.coverage.duties["IAM-C-02"]
    assert {"IAM-011", "IAM-012"} <= duty.rules
    assert "main.tf#aws_sagemaker_notebook_instance.nb" in duty.resources
    assert not _gaps(result, "IAM-011")


def test_inline_wildcard_policy_fails_the_notebook_naming_policy_and_statement(tmp_path: Path) -> None:
    role = ROLE[: ROLE.rindex("}")] + (
        '  inline_policy {\n    name   = "all"\n    policy = jsonencode({ Version = "2012-10-17", '
        'Statement = [{ Sid = "Everything", Effect = "Allow", Action = "*", Resource = "*" }] })\n  }\n}\n'
    )
    (tmp_path / "main.tf").write_text(role + NOTEBOOK)
    result = scan(tmp_path)
    hits = _hits(result, "IAM-011")
    assert hits and hits[0][0] == "aws_sagemaker_notebook_instance.nb"
    assert "aws_iam_role.exec inline_policy all" in hits[0][1] and "statements[0] (Everything)" in hits[0][1]
    assert _hits(result, "IAM-012")  # Action * includes iam:PassRole


def test_policy_in_another_file_attached_by_reference(tmp_path: Path) -> None:
    (tmp_path / "main.tf").write_text(ROLE + NOTEBOOK)
    (tmp_path / "iam.tf").write_text(
        """resource "aws_iam_policy" "broad" {
  name   = "broad"
  policy = <<EOF
{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": ["s3:*", "iam:PassRole"], "Resource": "*"}]}
EOF
}
resource "aws_iam_role_policy_attachment" "broad" {
  role       = aws_iam_role.exec.name
  policy_arn = aws_iam_policy.broad.arn
}
"""
    )
    result = scan(tmp_path)
    assert [n for n, _ in _hits(result, "IAM-011")] == ["aws_sagemaker_notebook_instance.nb"]
    assert "aws_iam_policy.broad" in _hits(result, "IAM-012")[0][1]


def test_aws_managed_admin_policy_fails_the_domain_default_role(tmp_path: Path) -> None:
    (tmp_path / "main.tf").write_text(
        ROLE
        + """resource "aws_iam_role_policy_attachment" "admin" {
  role       = aws_iam_role.exec.name
  policy_arn = "arn:aws:iam::aws:policy/AdministratorAccess"
}
resource "aws_sagemaker_domain" "studio" {
  domain_name = "studio"
  auth_mode   = "IAM"
  vpc_id      = "vpc-1"
  subnet_ids  = ["subnet-1"]
  default_user_settings {
    execution_role = aws_iam_role.exec.arn
  }
}
"""
    )
    result = scan(tmp_path)
    assert [n for n, _ in _hits(result, "IAM-011")] == ["aws_sagemaker_domain.studio"]
    assert "AdministratorAccess (AWS managed)" in _hits(result, "IAM-011")[0][1]
    assert _hits(result, "IAM-012")


def test_scoped_aws_managed_policy_passes(tmp_path: Path) -> None:
    (tmp_path / "main.tf").write_text(
        ROLE
        + NOTEBOOK
        + """resource "aws_iam_role_policy_attachment" "ro" {
  role       = aws_iam_role.exec.name
  policy_arn = "arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess"
}
"""
    )
    result = scan(tmp_path)
    assert not _hits(result, "IAM-011") and not _gaps(result, "IAM-011")


def test_role_outside_the_scan_is_unresolved_never_secure(tmp_path: Path) -> None:
    (tmp_path / "main.tf").write_text(
        NOTEBOOK.replace("aws_iam_role.exec.arn", "var.role_arn")
        + 'variable "role_arn" {\n  type = string\n}\n'
        + NOTEBOOK.replace('"nb"', '"lit"').replace(
            "aws_iam_role.exec.arn", '"arn:aws:iam::123456789012:role/service-role/elsewhere"'
        )
    )
    result = scan(tmp_path)
    assert not _hits(result, "IAM-011")
    gaps = _gaps(result, "IAM-011")
    assert any("var.role_arn" in g for g in gaps) and any("elsewhere" in g for g in gaps)
    assert "main.tf#aws_sagemaker_notebook_instance.nb" not in result.coverage.duties["IAM-C-02"].resources


def test_role_matched_by_literal_arn_across_modules(tmp_path: Path) -> None:
    (tmp_path / "iam").mkdir()
    (tmp_path / "iam" / "main.tf").write_text(
        ROLE
        + """resource "aws_iam_role_policy_attachment" "admin" {
  role       = aws_iam_role.exec.name
  policy_arn = "arn:aws:iam::aws:policy/PowerUserAccess"
}
"""
    )
    (tmp_path / "main.tf").write_text(
        NOTEBOOK.replace("aws_iam_role.exec.arn", '"arn:aws:iam::123456789012:role/nb-exec"')
    )
    result = scan(tmp_path)
    assert [n for n, _ in _hits(result, "IAM-011")] == ["aws_sagemaker_notebook_instance.nb"]
    assert not _hits(result, "IAM-012")  # PowerUserAccess excludes iam:*


def test_computed_policy_document_or_unresolvable_attachment_leaves_it_unresolved(tmp_path: Path) -> None:
    (tmp_path / "main.tf").write_text(
        ROLE
        + NOTEBOOK
        + """resource "aws_iam_role_policy" "computed" {
  role   = aws_iam_role.exec.id
  policy = file("${path.module}/policy.json")
}
"""
    )
    result = scan(tmp_path)
    assert not _hits(result, "IAM-011") and _gaps(result, "IAM-011")
    (tmp_path / "main.tf").write_text(
        ROLE
        + NOTEBOOK
        + """resource "aws_iam_role_policy_attachment" "x" {
  role       = var.role_name
  policy_arn = "arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess"
}
"""
    )
    result = scan(tmp_path)
    assert any("cannot be resolved" in g for g in _gaps(result, "IAM-012"))


CFN = """AWSTemplateFormatVersion: "2010-09-09"
Resources:
  ExecRole:
    Type: AWS::IAM::Role
    Properties:
      AssumeRolePolicyDocument:
        Version: "2012-10-17"
        Statement:
          - Effect: Allow
            Principal:
              Service: sagemaker.amazonaws.com
            Action: sts:AssumeRole
{extra_role}
  Notebook:
    Type: AWS::SageMaker::NotebookInstance
    Properties:
      InstanceType: ml.t3.medium
      RoleArn: !GetAtt ExecRole.Arn
{extra}
"""


def test_cloudformation_managed_policy_arn_and_policy_naming_the_role(tmp_path: Path) -> None:
    extra_role = """      ManagedPolicyArns:
        - !Sub arn:${AWS::Partition}:iam::aws:policy/AdministratorAccess"""
    (tmp_path / "stack.yaml").write_text(CFN.format(extra_role=extra_role, extra=""))
    result = scan(tmp_path)
    assert [n for n, _ in _hits(result, "IAM-011")] == ["Notebook"]
    extra = """  PassAny:
    Type: AWS::IAM::Policy
    Properties:
      PolicyName: pass-any
      Roles: [!Ref ExecRole]
      PolicyDocument:
        Version: "2012-10-17"
        Statement:
          - Sid: Pass
            Effect: Allow
            Action: iam:PassRole
            Resource: "*\""""
    (tmp_path / "stack.yaml").write_text(CFN.format(extra_role="", extra=extra))
    result = scan(tmp_path)
    assert not _hits(result, "IAM-011")
    hits = _hits(result, "IAM-012")
    assert hits and hits[0][0] == "Notebook" and "PassAny" in hits[0][1] and "(Pass)" in hits[0][1]


def test_cloudformation_scoped_inline_policy_passes(tmp_path: Path) -> None:
    extra_role = """      Policies:
        - PolicyName: data
          PolicyDocument:
            Version: "2012-10-17"
            Statement:
              - Effect: Allow
                Action: [s3:GetObject]
                Resource: arn:aws:s3:::ml-data/*"""
    (tmp_path / "stack.yaml").write_text(CFN.format(extra_role=extra_role, extra=""))
    result = scan(tmp_path)
    assert not _hits(result, "IAM-011") and not _hits(result, "IAM-012")
    assert "stack.yaml#Notebook" in result.coverage.duties["IAM-C-02"].resources
    wild = extra_role.replace("[s3:GetObject]", "['s3:*']").replace("arn:aws:s3:::ml-data/*", "'*'")
    (tmp_path / "stack.yaml").write_text(CFN.format(extra_role=wild, extra=""))
    hits = _hits(scan(tmp_path), "IAM-011")
    assert hits and "ExecRole Policies[0] (data)" in hits[0][1]


def test_plan_json_resolves_the_role_from_its_configuration(tmp_path: Path) -> None:
    plan = {
        "format_version": "1.2",
        "terraform_version": "1.9.8",
        "resource_changes": [
            {
                "address": "module.ml.aws_iam_role.exec",
                "mode": "managed",
                "type": "aws_iam_role",
                "name": "exec",
                "change": {"actions": ["create"], "after": {"name": "nb-exec"}, "after_unknown": {"arn": True}},
            },
            {
                "address": "module.ml.aws_iam_role_policy_attachment.admin",
                "mode": "managed",
                "type": "aws_iam_role_policy_attachment",
                "name": "admin",
                "change": {
                    "actions": ["create"],
                    "after": {"role": "nb-exec", "policy_arn": "arn:aws:iam::aws:policy/AdministratorAccess"},
                    "after_unknown": {},
                },
            },
            {
                "address": "module.ml.aws_sagemaker_notebook_instance.nb",
                "mode": "managed",
                "type": "aws_sagemaker_notebook_instance",
                "name": "nb",
                "change": {
                    "actions": ["create"],
                    "after": {"name": "research", "instance_type": "ml.t3.medium"},
                    "after_unknown": {"role_arn": True},
                },
            },
        ],
        "configuration": {
            "root_module": {
                "module_calls": {
                    "ml": {
                        "source": "./ml",
                        "module": {
                            "resources": [
                                {
                                    "address": "aws_sagemaker_notebook_instance.nb",
                                    "type": "aws_sagemaker_notebook_instance",
                                    "name": "nb",
                                    "expressions": {
                                        "role_arn": {"references": ["aws_iam_role.exec.arn", "aws_iam_role.exec"]},
                                        "instance_type": {"constant_value": "ml.t3.medium"},
                                    },
                                }
                            ]
                        },
                    }
                }
            }
        },
    }
    (tmp_path / "plan.json").write_text(json.dumps(plan, indent=2))
    result = scan(tmp_path)
    hits = _hits(result, "IAM-011")
    assert [n for n, _ in hits] == ["module.ml.aws_sagemaker_notebook_instance.nb"]
    assert "AdministratorAccess" in hits[0][1]


def test_cloudformation_user_profile_execution_role_admin(tmp_path: Path) -> None:
    extra_role = """      ManagedPolicyArns:
        - arn:aws:iam::aws:policy/AdministratorAccess"""
    profile = """  Profile:
    Type: AWS::SageMaker::UserProfile
    Properties:
      DomainId: d-abc
      UserProfileName: analyst
      UserSettings:
        ExecutionRole: !GetAtt ExecRole.Arn"""
    (tmp_path / "stack.yaml").write_text(CFN.format(extra_role=extra_role, extra=profile))
    names = sorted(n or "" for n, _ in _hits(scan(tmp_path), "IAM-011"))
    assert names == ["Notebook", "Profile"]


def test_policy_attachment_by_roles_list_and_exclusive_attachments(tmp_path: Path) -> None:
    policy = """resource "aws_iam_policy" "pass" {
  name   = "pass-any"
  policy = jsonencode({ Version = "2012-10-17", Statement = [{ Effect = "Allow", Action = "iam:PassRole", Resource = "*" }] })
}
"""
    (tmp_path / "main.tf").write_text(
        ROLE
        + NOTEBOOK
        + policy
        + """resource "aws_iam_policy_attachment" "pass" {
  name       = "pass"
  roles      = [aws_iam_role.exec.name]
  policy_arn = aws_iam_policy.pass.arn
}
"""
    )
    result = scan(tmp_path)
    assert "aws_iam_policy.pass" in _hits(result, "IAM-012")[0][1] and not _hits(result, "IAM-011")
    (tmp_path / "main.tf").write_text(
        ROLE
        + NOTEBOOK
        + policy
        + """resource "aws_iam_role_policy_attachments_exclusive" "exec" {
  role_name   = aws_iam_role.exec.name
  policy_arns = ["arn:aws:iam::123456789012:policy/pass-any"]
}
"""
    )
    assert "aws_iam_policy.pass" in _hits(scan(tmp_path), "IAM-012")[0][1]


def test_cloudformation_managed_policy_named_in_managed_policy_arns(tmp_path: Path) -> None:
    extra_role = """      ManagedPolicyArns:
        - !Ref Broad"""
    extra = """  Broad:
    Type: AWS::IAM::ManagedPolicy
    Properties:
      PolicyDocument:
        Version: "2012-10-17"
        Statement:
          - Effect: Allow
            Action: "sagemaker:*"
            Resource: "*\""""
    (tmp_path / "stack.yaml").write_text(CFN.format(extra_role=extra_role, extra=extra))
    hits = _hits(scan(tmp_path), "IAM-011")
    assert hits and hits[0][0] == "Notebook" and "Broad" in hits[0][1]


def test_for_each_roles_are_judged_by_their_resource(tmp_path: Path) -> None:
    role = ROLE.replace(
        'resource "aws_iam_role" "exec" {', 'resource "aws_iam_role" "exec" {\n  for_each = toset(["a"])'
    )
    role = role.replace('name = "nb-exec"', 'name = "nb-exec-${each.key}"')
    (tmp_path / "main.tf").write_text(
        role
        + NOTEBOOK.replace("aws_iam_role.exec.arn", 'aws_iam_role.exec["a"].arn')
        + """resource "aws_iam_role_policy_attachment" "admin" {
  role       = aws_iam_role.exec["a"].name
  policy_arn = "arn:aws:iam::aws:policy/AdministratorAccess"
}
"""
    )
    assert [n for n, _ in _hits(scan(tmp_path), "IAM-011")] == ["aws_sagemaker_notebook_instance.nb"]


def test_finding_points_at_the_role_attribute_line(tmp_path: Path) -> None:
    text = (
        ROLE
        + NOTEBOOK
        + """resource "aws_iam_role_policy_attachment" "admin" {
  role       = aws_iam_role.exec.name
  policy_arn = "arn:aws:iam::aws:policy/AdministratorAccess"
}
"""
    )
    (tmp_path / "main.tf").write_text(text)
    want = text.splitlines().index("  role_arn      = aws_iam_role.exec.arn") + 1
    found = [f for f in scan(tmp_path).findings if f.rule_id == "IAM-011"]
    assert [(f.location.line, f.location.field_path) for f in found] == [(want, "role_arn")]


def test_inline_policy_blocks_written_out_or_from_a_data_source(tmp_path: Path) -> None:
    role = ROLE[: ROLE.rindex("}")] + (
        '  inline_policy {\n    name   = "from-data"\n    policy = data.aws_iam_policy_document.wide.json\n  }\n'
        '  inline_policy {\n    name   = "written"\n    policy = jsonencode({ Version = "2012-10-17", '
        'Statement = [{ Effect = "Allow", Action = "s3:GetObject", Resource = "arn:aws:s3:::b/*" }] })\n  }\n}\n'
    )
    data = """data "aws_iam_policy_document" "wide" {
  statement {
    actions   = ["ecr:*"]
    resources = ["*"]
  }
}
"""
    (tmp_path / "main.tf").write_text(role + data + NOTEBOOK)
    hits = _hits(scan(tmp_path), "IAM-011")
    assert len(hits) == 1 and "inline_policy from-data (data.aws_iam_policy_document.wide)" in hits[0][1]
