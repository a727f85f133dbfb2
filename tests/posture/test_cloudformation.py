"""CloudFormation templates: short intrinsic tags, JSON, lines, embedded policies, hostile YAML."""

from __future__ import annotations

from pathlib import Path

from cloud_helpers import FIXTURES, rule_lines, scan

from shareguard.core.context import ScanContext
from shareguard.core.entry import FileEntry
from shareguard.core.settings import Settings
from shareguard.posture.attribute_rules import attribute_rules
from shareguard.posture.parsers import cloudformation


def _parse(p: Path) -> list:  # type: ignore[type-arg]
    e = FileEntry(rel_path=p.name, size=p.stat().st_size, abs_path=p)
    assert cloudformation.claim(e)
    return cloudformation.parse(e, ScanContext(settings=Settings()))


def test_intrinsic_short_tags_become_long_form(tmp_path: Path) -> None:
    p = tmp_path / "t.yaml"
    p.write_text(
        "AWSTemplateFormatVersion: '2010-09-09'\n"
        "Resources:\n"
        "  NB:\n"
        "    Type: AWS::SageMaker::NotebookInstance\n"
        "    Properties:\n"
        "      RoleArn: !GetAtt Role.Arn\n"
        "      SubnetId: !Ref Subnet\n"
        "      KmsKeyId: !If [HasKey, !Ref Key, !Ref AWS::NoValue]\n"
        "      InstanceType: !FindInMap [Sizes, !Ref Env, nb]\n"
        "      DefaultCodeRepository: !Sub 'https://${Repo}'\n"
        "      RootAccess: !Select [0, !Split [',', 'Disabled,Enabled']]\n"
        "      DirectInternetAccess: Disabled\n"
    )
    (nb,) = _parse(p)
    a = nb.attributes
    assert a["role_arn"] == {"Fn::GetAtt": ["Role", "Arn"]}
    assert a["subnet_id"] == {"Ref": "Subnet"}
    assert a["kms_key_id"] == {"Fn::If": ["HasKey", {"Ref": "Key"}, {"Ref": "AWS::NoValue"}]}
    assert a["default_code_repository"] == {"Fn::Sub": "https://${Repo}"}
    assert nb.type == "aws.sagemaker.notebook" and nb.line == 3
    assert nb.line_of("kms_key_id") == 8
    # Unresolved intrinsics are unknown values: no finding on RootAccess.
    assert "SAGEMAKER-001" not in rule_lines(scan(p))


def test_json_template() -> None:
    lines = rule_lines(scan(FIXTURES / "cloudformation" / "notebook.json"))
    own = {k: v for k, v in lines.items() if k not in attribute_rules()}  # the attribute tables are tested apart
    assert own == {"SAGEMAKER-001": [9]}


def test_embedded_policy_lines() -> None:
    res = _parse(FIXTURES / "cloudformation" / "ml_bad.yaml")
    role_policy = next(r for r in res if r.name == "ExecutionRole.Policies[0].PolicyDocument")
    assert role_policy.attributes["context"] == "identity"
    assert role_policy.lines["statements[0]"] == 44
    trust = next(r for r in res if r.name == "ExecutionRole.AssumeRolePolicyDocument")
    assert trust.attributes["context"] == "trust"


def test_yaml_bomb_is_a_per_file_error(tmp_path: Path) -> None:
    bomb = ["AWSTemplateFormatVersion: '2010-09-09'", 'a: &a ["x","x","x","x","x","x","x","x","x"]']
    for i in range(1, 12):
        prev = chr(ord("a") + i - 1)
        cur = chr(ord("a") + i)
        bomb.append(f"{cur}: &{cur} [" + ",".join([f"*{prev}"] * 9) + "]")
    bomb.append("Resources: {}")
    (tmp_path / "bomb.yaml").write_text("\n".join(bomb) + "\n")
    (tmp_path / "ok.yaml").write_text(
        "AWSTemplateFormatVersion: '2010-09-09'\nResources:\n  K:\n    Type: AWS::KMS::Key\n    Properties: {}\n"
    )
    result = scan(tmp_path)
    assert [i.path for i in result.issues if i.kind == "error"] == ["bomb.yaml"]
    assert "KMS-001" in rule_lines(result)


def test_template_without_resources_is_an_error(tmp_path: Path) -> None:
    (tmp_path / "t.yaml").write_text("AWSTemplateFormatVersion: '2010-09-09'\nDescription: nothing\n")
    result = scan(tmp_path)
    assert any("no Resources" in i.message for i in result.issues)


def test_non_cloudformation_yaml_is_not_claimed(tmp_path: Path) -> None:
    p = tmp_path / "values.yaml"
    p.write_text("replicaCount: 1\nimage:\n  repository: nginx\n")
    assert not cloudformation.claim(FileEntry(rel_path=p.name, size=p.stat().st_size, abs_path=p))
