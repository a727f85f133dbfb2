"""Posture verdicts from evidence: a duty passes only where a rule really judged a resource in its scope.

Every bundled rule says which resources it judges (`applies_to`); unknown values leave a duty incomplete; the
cross-resource STORAGE-005 judges every bucket against the policy that attaches to it.
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

import pytest

from shareguard.catalog import Catalog
from shareguard.catalog.loader import load_catalog
from shareguard.core.options import OptionSet
from shareguard.core.registry import load_registries
from shareguard.core.result import ScanResult
from shareguard.posture.bucket_policies import BucketPolicies
from shareguard.posture.check import PostureCheck, parse_selector
from shareguard.posture.graph.eks_identity import EksIdentity
from shareguard.posture.graph.execution_roles import ExecutionRoles
from shareguard.posture.graph.key_users import KeyUsers
from shareguard.posture.k8s_token_use import K8sTokenUse
from shareguard.posture.plugin import posture_rules, rules_by_family
from shareguard.report.rollup import DutyStatus, rollup
from shareguard.scan import run_path_scan

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "ml-platform"


@cache
def _catalog() -> Catalog:
    return load_catalog()


def _verdicts(result: ScanResult) -> dict[str, DutyStatus]:
    return {d.control.id: d.status for d in rollup(result, _catalog()).duties()}


def _config(path: Path) -> dict[str, DutyStatus]:
    return _verdicts(run_path_scan(path, command="config", capabilities=frozenset({"posture"})))


def _write(root: Path, files: dict[str, str]) -> Path:
    for rel, text in files.items():
        p = root / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(text, encoding="utf-8")
    return root


# --- applies_to of the bundled rules -------------------------------------------------------------------


def _family_types() -> dict[str, set[str]]:
    """Check family (its rules file) → the canonical types its checks examine; plus the post analyzers'."""
    out: dict[str, set[str]] = {}
    for chk in load_registries().of(PostureCheck):  # type: ignore[type-abstract]
        out.setdefault(chk.name.split(".", 1)[0], set()).update(chk.types)
    out.setdefault("bucket_policies", set()).update(BucketPolicies(rules=posture_rules).types)
    out.setdefault("k8s_token_use", set()).update(K8sTokenUse(rules=posture_rules).types)
    out.setdefault("execution_roles", set()).update(ExecutionRoles(rules=posture_rules).types)
    out.setdefault("key_users", set()).update(KeyUsers(rules=posture_rules).types)
    out.setdefault("eks_identity", set()).update(EksIdentity(rules=posture_rules).types)
    return out


def test_every_bundled_rule_says_what_it_judges() -> None:
    types = _family_types()
    for family, rules in rules_by_family().items():
        assert family in types, f"rules/{family}.yaml: no check family or post analyzer judges its rules"
        declared = types[family]
        for rid, meta in rules.items():
            assert meta.applies_to, f"{rid} has no applies_to: it could never pass a duty"
            for text in meta.applies_to:
                kind, pairs = parse_selector(text)
                assert kind in declared or "*" in declared, f"{rid}: {kind} is not a type its family examines"
                assert kind != "*" or "*" in declared, f"{rid}: `*` on a family that looks at some types only"
                if "[" in text:
                    assert pairs and text.endswith("]"), f"{rid}: malformed selector {text}"


# --- the example workspace ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def example() -> dict[str, DutyStatus]:
    return _verdicts(run_path_scan(EXAMPLE, command="audit"))


def test_example_kms_rotation_is_not_assessed_without_a_key(example: dict[str, DutyStatus]) -> None:
    assert example["KMS-C-02"] is DutyStatus.NOT_ASSESSED


def test_example_bucket_without_tls_deny_fails(example: dict[str, DutyStatus]) -> None:
    assert example["STORAGE-C-05"] is DutyStatus.FAIL


def test_example_owner_role_for_a_user_fails_individual_identities(example: dict[str, DutyStatus]) -> None:
    assert example["IAM-C-01"] is DutyStatus.FAIL


def test_a_hello_world_python_file_passes_nothing(tmp_path: Path) -> None:
    _write(tmp_path, {"hello.py": 'print("hello")\n'})
    for capabilities in (frozenset({"posture"}), None):
        result = run_path_scan(tmp_path, command="audit", capabilities=capabilities)
        passed = [c for c, s in _verdicts(result).items() if s is DutyStatus.PASS]
        assert passed == []


def test_beam_words_without_pipeline_options_are_no_resource(tmp_path: Path) -> None:
    _write(tmp_path, {"p.py": "import apache_beam as beam\n# PipelineOptions come later\nprint(beam)\n"})
    result = run_path_scan(tmp_path, command="config", capabilities=frozenset({"posture"}))
    assert result.coverage.duties == {}
    assert not [v for v in _verdicts(result).values() if v is DutyStatus.PASS]


# --- exact scopes ------------------------------------------------------------------------------------

_ASYMMETRIC = """
resource "aws_kms_key" "sign" {
  customer_master_key_spec = "RSA_2048"
  key_usage                = "SIGN_VERIFY"
}
"""
_SYMMETRIC = """
resource "aws_kms_key" "data" {
  enable_key_rotation = true
}
"""


def test_kms_rotation_judges_symmetric_keys_only(tmp_path: Path) -> None:
    _write(tmp_path / "a", {"main.tf": _ASYMMETRIC})
    assert _config(tmp_path / "a")["KMS-C-02"] is DutyStatus.NOT_ASSESSED
    _write(tmp_path / "b", {"main.tf": _ASYMMETRIC + _SYMMETRIC})
    assert _config(tmp_path / "b")["KMS-C-02"] is DutyStatus.PASS


def test_unknown_rotation_is_incomplete_never_pass(tmp_path: Path) -> None:
    _write(
        tmp_path,
        {"main.tf": 'variable "rotate" {}\nresource "aws_kms_key" "k" {\n  enable_key_rotation = var.rotate\n}\n'},
    )
    assert _config(tmp_path)["KMS-C-02"] is DutyStatus.INCOMPLETE


def test_unknown_gcp_rotation_period_is_incomplete(tmp_path: Path) -> None:
    tf = 'variable "p" {}\nresource "google_kms_crypto_key" "k" {\n  name = "k"\n  key_ring = "r"\n  rotation_period = var.p\n}\n'
    _write(tmp_path, {"main.tf": tf})
    assert _config(tmp_path)["KMS-C-02"] is DutyStatus.INCOMPLETE


def test_plain_compute_instance_assesses_no_dlvm_duty(tmp_path: Path) -> None:
    tf = """
resource "google_compute_instance" "vm" {
  name = "vm"
  boot_disk {
    initialize_params { image = "debian-cloud/debian-12" }
  }
  network_interface { network = "default" }
}
"""
    _write(tmp_path, {"main.tf": tf})
    verdicts = _config(tmp_path)
    for duty in ("DLVM-C-01", "DLVM-C-04", "DLVM-C-05", "IAM-C-01", "IAM-C-03"):
        assert verdicts[duty] is DutyStatus.NOT_ASSESSED, duty


def test_dlvm_oslogin_from_an_expression_is_incomplete(tmp_path: Path) -> None:
    tf = """
variable "oslogin" {}
resource "google_compute_instance" "vm" {
  name = "vm"
  boot_disk {
    initialize_params { image = "projects/deeplearning-platform-release/global/images/family/pytorch-latest-gpu" }
  }
  metadata = {
    enable-oslogin     = var.oslogin
    enable-oslogin-2fa = "TRUE"
  }
  shielded_instance_config { enable_secure_boot = true }
  network_interface { network = "default" }
}
"""
    _write(tmp_path, {"main.tf": tf})
    result = run_path_scan(tmp_path, command="config", capabilities=frozenset({"posture"}))
    assert "DLVM-003" not in {f.rule_id for f in result.findings}
    verdicts = _verdicts(result)
    assert verdicts["DLVM-C-05"] is DutyStatus.INCOMPLETE
    assert verdicts["DLVM-C-01"] is DutyStatus.PASS  # a maintained family was judged


def test_dataflow_options_from_the_command_line_are_not_judged_missing(tmp_path: Path) -> None:
    code = "from apache_beam.options.pipeline_options import PipelineOptions\nopts = PipelineOptions(['--project=p'])\n"
    _write(tmp_path, {"p.py": code})
    verdicts = _config(tmp_path)
    for duty in ("DATAFLOW-C-05", "DATAFLOW-C-06", "DATAFLOW-C-07"):
        assert verdicts[duty] is DutyStatus.NOT_ASSESSED, duty


# --- IAM-C-01: owner/editor held by named identities --------------------------------------------------


def test_owner_role_in_terraform_fails_individual_identities(tmp_path: Path) -> None:
    tf = """
resource "google_project_iam_member" "owner" {
  project = "p"
  role    = "roles/owner"
  member  = "user:jane@example.com"
}
resource "google_project_iam_binding" "editors" {
  project = "p"
  role    = "roles/editor"
  members = ["group:ml@example.com"]
}
"""
    _write(tmp_path, {"main.tf": tf})
    result = run_path_scan(tmp_path, command="config", capabilities=frozenset({"posture"}))
    assert sorted(f.rule_id for f in result.findings if f.rule_id == "IAM-010") == ["IAM-010", "IAM-010"]
    assert _verdicts(result)["IAM-C-01"] is DutyStatus.FAIL


def test_predefined_roles_pass_individual_identities(tmp_path: Path) -> None:
    policy = {"bindings": [{"role": "roles/dataflow.developer", "members": ["user:jane@example.com"]}], "etag": "x"}
    _write(tmp_path, {"project-policy.json": json.dumps(policy)})
    assert _config(tmp_path)["IAM-C-01"] is DutyStatus.PASS


# --- STORAGE-005 across resources -----------------------------------------------------------------------

_DENY = """{
  "Version": "2012-10-17",
  "Statement": [{
    "Effect": "Deny", "Principal": "*", "Action": "s3:*",
    "Resource": ["arn:aws:s3:::data", "arn:aws:s3:::data/*"],
    "Condition": {"Bool": {"aws:SecureTransport": "false"}}
  }]
}"""
_TF_BUCKET = 'resource "aws_s3_bucket" "data" {\n  bucket = "data"\n}\n'
_TF_POLICY = 'resource "aws_s3_bucket_policy" "data" {\n  bucket = BUCKET\n  policy = <<EOF\n' + _DENY + "\nEOF\n}\n"


def _storage(path: Path) -> DutyStatus:
    return _config(path)["STORAGE-C-05"]


def test_terraform_bucket_without_a_policy_fails(tmp_path: Path) -> None:
    _write(tmp_path, {"main.tf": _TF_BUCKET})
    result = run_path_scan(tmp_path, command="config", capabilities=frozenset({"posture"}))
    [f] = [f for f in result.findings if f.rule_id == "STORAGE-005"]
    assert f.resource.name == "aws_s3_bucket.data" and f.resource.type == "aws_s3_bucket"
    assert f.location.line == 1
    assert _verdicts(result)["STORAGE-C-05"] is DutyStatus.FAIL


def test_terraform_policy_in_another_file_of_the_module_passes(tmp_path: Path) -> None:
    _write(tmp_path, {"bucket.tf": _TF_BUCKET, "policy.tf": _TF_POLICY.replace("BUCKET", "aws_s3_bucket.data.id")})
    assert _storage(tmp_path) is DutyStatus.PASS


def test_terraform_policy_by_literal_name_passes(tmp_path: Path) -> None:
    _write(tmp_path, {"bucket.tf": _TF_BUCKET, "other/policy.tf": _TF_POLICY.replace("BUCKET", '"data"')})
    assert _storage(tmp_path) is DutyStatus.PASS


def test_terraform_policy_of_another_module_does_not_cover_the_bucket(tmp_path: Path) -> None:
    _write(tmp_path, {"a/bucket.tf": _TF_BUCKET, "b/policy.tf": _TF_POLICY.replace("BUCKET", "aws_s3_bucket.data.id")})
    assert _storage(tmp_path) is DutyStatus.FAIL


def test_terraform_policy_without_the_deny_fails_on_the_policy(tmp_path: Path) -> None:
    allow = _TF_POLICY.replace("BUCKET", "aws_s3_bucket.data.id").replace('"Deny"', '"Allow"')
    _write(tmp_path, {"main.tf": _TF_BUCKET + allow})
    result = run_path_scan(tmp_path, command="config", capabilities=frozenset({"posture"}))
    [f] = [f for f in result.findings if f.rule_id == "STORAGE-005"]
    assert f.resource.name == "aws_s3_bucket_policy.data.policy"
    assert f.resource.type == "aws_s3_bucket_policy"  # the parser's own type name, carried by the fact
    assert f.location.line == 6  # its `policy = <<EOF` line in main.tf


def test_unresolvable_bucket_reference_is_incomplete(tmp_path: Path) -> None:
    _write(tmp_path, {"main.tf": 'variable "b" {}\n' + _TF_BUCKET + _TF_POLICY.replace("BUCKET", "var.b")})
    assert _storage(tmp_path) is DutyStatus.INCOMPLETE


_CFN = """AWSTemplateFormatVersion: "2010-09-09"
Resources:
  Data:
    Type: AWS::S3::Bucket
    Properties:
      BucketName: data
"""
_CFN_POLICY = """  DataPolicy:
    Type: AWS::S3::BucketPolicy
    Properties:
      Bucket: !Ref Data
      PolicyDocument:
        Statement:
          - Effect: Deny
            Principal: "*"
            Action: "s3:*"
            Resource: "*"
            Condition:
              Bool:
                aws:SecureTransport: "false"
"""


def test_cloudformation_bucket_and_policy(tmp_path: Path) -> None:
    _write(tmp_path / "bare", {"t.yaml": _CFN})
    assert _storage(tmp_path / "bare") is DutyStatus.FAIL
    _write(tmp_path / "covered", {"t.yaml": _CFN + _CFN_POLICY})
    assert _storage(tmp_path / "covered") is DutyStatus.PASS
    _write(tmp_path / "imported", {"t.yaml": _CFN + _CFN_POLICY.replace("!Ref Data", "!ImportValue shared-bucket")})
    assert _storage(tmp_path / "imported") is DutyStatus.INCOMPLETE
    _write(tmp_path / "allow", {"t.yaml": _CFN + _CFN_POLICY.replace("Effect: Deny", "Effect: Allow")})
    result = run_path_scan(tmp_path / "allow", command="config", capabilities=frozenset({"posture"}))
    [f] = [f for f in result.findings if f.rule_id == "STORAGE-005"]
    assert f.resource.type == "AWS::S3::BucketPolicy"  # the parser's own type name, carried by the fact


def _plan(policy_bucket: str, with_config: bool) -> str:
    doc: dict[str, Any] = {
        "format_version": "1.2",
        "terraform_version": "1.7.0",
        "resource_changes": [
            {
                "address": "aws_s3_bucket.data",
                "mode": "managed",
                "type": "aws_s3_bucket",
                "change": {"actions": ["create"], "after": {"bucket": "data"}, "after_unknown": {"id": True}},
            },
            {
                "address": "aws_s3_bucket_policy.data",
                "mode": "managed",
                "type": "aws_s3_bucket_policy",
                "change": {
                    "actions": ["create"],
                    "after": {"policy": _DENY, **({"bucket": policy_bucket} if policy_bucket else {})},
                    "after_unknown": {} if policy_bucket else {"bucket": True},
                },
            },
        ],
    }
    if with_config:
        doc["configuration"] = {
            "root_module": {
                "resources": [
                    {
                        "address": "aws_s3_bucket_policy.data",
                        "expressions": {"bucket": {"references": ["aws_s3_bucket.data.id", "aws_s3_bucket.data"]}},
                    }
                ]
            }
        }
    return json.dumps(doc)


def test_plan_bucket_policy_resolved_by_name_or_configuration(tmp_path: Path) -> None:
    _write(tmp_path / "named", {"plan.json": _plan("data", with_config=False)})
    assert _storage(tmp_path / "named") is DutyStatus.PASS
    _write(tmp_path / "configured", {"plan.json": _plan("", with_config=True)})
    assert _storage(tmp_path / "configured") is DutyStatus.PASS
    _write(tmp_path / "unknown", {"plan.json": _plan("", with_config=False)})
    assert _storage(tmp_path / "unknown") is DutyStatus.INCOMPLETE


def test_standalone_policy_is_judged_by_itself(tmp_path: Path) -> None:
    _write(tmp_path / "deny", {"bucket-policy.json": _DENY})
    assert _storage(tmp_path / "deny") is DutyStatus.PASS
    allow = json.loads(_DENY)
    allow["Statement"][0]["Effect"] = "Allow"
    _write(tmp_path / "allow", {"bucket-policy.json": json.dumps(allow)})
    assert _storage(tmp_path / "allow") is DutyStatus.FAIL


# --- user CEL rules --------------------------------------------------------------------------------------

_USER_RULE = """\
rules:
  - id: ACME-100
    title: Buckets must carry an owner tag
    severity: low
    control_ids: [STORAGE-C-04]
    remediation: Tag the bucket with its owner.
    resource_types: [gcp.storage.bucket]
    condition: "!has(resource.attributes.labels) || !('owner' in resource.attributes.labels)"
  - id: ACME-101
    title: Errors never count as evaluated
    severity: low
    control_ids: [DLC-C-06]
    remediation: n/a
    resource_types: [gcp.storage.bucket]
    condition: resource.attributes.no_such_attribute == 1
"""


def test_user_cel_rules_record_what_they_evaluated(tmp_path: Path) -> None:
    from shareguard.posture.cel_rules import CelOptions, load_rule_dirs

    _write(tmp_path / "rules", {"r.yaml": _USER_RULE})
    ruleset = load_rule_dirs([tmp_path / "rules"], known_ids=posture_rules())
    tf = 'resource "google_storage_bucket" "b" {\n  name = "b"\n  location = "EU"\n  labels = { owner = "ml" }\n}\n'
    _write(tmp_path / "ws", {"main.tf": tf})
    result = run_path_scan(
        tmp_path / "ws",
        command="config",
        capabilities=frozenset({"posture"}),
        options=OptionSet((CelOptions(rules=ruleset),)),
    )
    assert not [f for f in result.findings if f.rule_id.startswith("ACME")]
    storage = result.coverage.of("STORAGE-C-04")
    assert storage is not None and "ACME-100" in storage.rules
    assert result.coverage.of("DLC-C-06") is None  # a runtime error means "does not apply"
