"""Terraform HCL parser: canonical resources, variables, count/for_each/dynamic, modules, lines, bad input."""

from __future__ import annotations

from pathlib import Path

import pytest
from cloud_helpers import FIXTURES, rule_lines, scan
from hypothesis import given, settings
from hypothesis import strategies as st

from shareguard.core.context import ScanContext
from shareguard.core.entry import FileEntry
from shareguard.core.errors import ShareguardError
from shareguard.core.settings import Settings
from shareguard.posture.parsers import terraform


def _parse(tmp_path: Path, text: str, name: str = "main.tf") -> list:  # type: ignore[type-arg]
    p = tmp_path / name
    p.write_text(text)
    entry = FileEntry(rel_path=name, size=p.stat().st_size, abs_path=p)
    assert terraform.claim(entry)
    return terraform.parse(entry, ScanContext(settings=Settings(), root=tmp_path))


def test_canonical_type_and_attribute_lines(tmp_path: Path) -> None:
    res = _parse(
        tmp_path,
        'resource "google_dataflow_job" "j" {\n'
        '  name = "j"\n'
        '  template_gcs_path = "gs://b/t"\n'
        '  kms_key_name = "projects/p/locations/l/keyRings/r/cryptoKeys/k"\n'
        "}\n",
    )
    (job,) = res
    assert job.type == "gcp.dataflow.job"
    assert job.raw_type == "google_dataflow_job"
    assert job.line == 1
    assert job.attributes["kms_key_name"].endswith("cryptoKeys/k")
    assert job.line_of("kms_key_name") == 4


def test_variable_default_is_substituted_from_a_sibling_file(tmp_path: Path) -> None:
    (tmp_path / "variables.tf").write_text('variable "ip" {\n  default = "WORKER_IP_PUBLIC"\n}\n')
    (tmp_path / "main.tf").write_text(
        'resource "google_dataflow_job" "j" {\n  name = "j"\n  ip_configuration = var.ip\n}\n'
    )
    assert rule_lines(scan(tmp_path))["DATAFLOW-002"] == [3]


def test_tfvars_value_overrides_default(tmp_path: Path) -> None:
    (tmp_path / "variables.tf").write_text('variable "ip" {\n  default = "WORKER_IP_PUBLIC"\n}\n')
    (tmp_path / "terraform.tfvars").write_text('ip = "WORKER_IP_PRIVATE"\n')
    (tmp_path / "main.tf").write_text('resource "google_dataflow_job" "j" {\n  ip_configuration = var.ip\n}\n')
    (job,) = _parse(tmp_path, (tmp_path / "main.tf").read_text())
    assert job.attributes["ip_configuration"] == "WORKER_IP_PRIVATE"


def test_unknown_variable_never_produces_a_value_finding(tmp_path: Path) -> None:
    (tmp_path / "main.tf").write_text(
        'variable "ip" {}\n'
        'resource "google_dataflow_job" "j" {\n'
        "  ip_configuration = var.ip\n"
        "  kms_key_name = var.key\n"
        "  service_account_email = var.sa\n"
        "}\n"
    )
    lines = rule_lines(scan(tmp_path))
    assert not {"DATAFLOW-001", "DATAFLOW-002", "DATAFLOW-003"} & set(lines)


def test_count_zero_skips_and_for_each_yields_one_resource_per_known_instance(tmp_path: Path) -> None:
    res = _parse(
        tmp_path,
        'resource "aws_sagemaker_notebook_instance" "off" {\n  count = 0\n  name = "x"\n}\n'
        'resource "aws_sagemaker_notebook_instance" "many" {\n  for_each = toset(["a", "b"])\n  name = each.key\n}\n'
        'resource "aws_sagemaker_notebook_instance" "one" {\n  count = var.enabled ? 1 : 0\n  name = "y"\n}\n',
    )
    assert [r.name for r in res] == [
        'aws_sagemaker_notebook_instance.many["a"]',
        'aws_sagemaker_notebook_instance.many["b"]',
        "aws_sagemaker_notebook_instance.one",  # `var.enabled` has no default: count unknown, kept
    ]
    assert [r.attributes["name"] for r in res[:2]] == ["a", "b"]


def test_dynamic_block_counts_as_present(tmp_path: Path) -> None:
    (job,) = _parse(
        tmp_path,
        'resource "google_compute_instance" "vm" {\n'
        "  boot_disk {\n    initialize_params {\n"
        '      image = "projects/deeplearning-platform-release/global/images/family/pytorch-latest-gpu"\n'
        "    }\n  }\n"
        '  dynamic "shielded_instance_config" {\n'
        "    for_each = var.shielded ? [1] : []\n"
        "    content {\n      enable_secure_boot = var.secure_boot\n    }\n  }\n"
        "}\n",
    )
    assert job.attributes["shielded_instance_config"] == [{"enable_secure_boot": "${var.secure_boot}"}]
    assert job.line_of("shielded_instance_config") == 7
    # An unknown secure-boot value is not a finding.
    (tmp_path / "main.tf").write_text((tmp_path / "main.tf").read_text())
    assert "DLVM-006" not in rule_lines(scan(tmp_path))


def test_module_calls_are_recorded(tmp_path: Path) -> None:
    (tmp_path / "modules" / "df").mkdir(parents=True)
    (tmp_path / "modules" / "df" / "main.tf").write_text(
        'resource "google_dataflow_job" "inner" {\n  ip_configuration = "WORKER_IP_PUBLIC"\n}\n'
    )
    (tmp_path / "main.tf").write_text('module "df" {\n  source = "./modules/df"\n}\n')
    (mod,) = _parse(tmp_path, (tmp_path / "main.tf").read_text())
    assert mod.type == "terraform.module" and mod.attributes["source"] == "./modules/df"
    result = scan(tmp_path)
    assert any(f.resource.path == "modules/df/main.tf" for f in result.findings)


def test_embedded_policies_become_policy_resources(tmp_path: Path) -> None:
    res = _parse(
        tmp_path,
        'resource "aws_iam_role" "r" {\n'
        "  assume_role_policy = jsonencode({\n"
        '    Version = "2012-10-17"\n'
        '    Statement = [{ Effect = "Allow", Principal = { Service = "sagemaker.amazonaws.com" }, Action = "sts:AssumeRole" }]\n'
        "  })\n"
        "}\n",
    )
    policy = next(r for r in res if r.type == "aws.iam.policy")
    assert policy.attributes["context"] == "trust"
    assert policy.attributes["statements"][0]["principals"] == {"Service": ["sagemaker.amazonaws.com"]}
    assert policy.line == 2


def test_syntax_error_is_a_per_file_error_and_the_rest_is_scanned(tmp_path: Path) -> None:
    (tmp_path / "broken.tf").write_text('resource "google_dataflow_job" "j" {\n  name = \n')
    (tmp_path / "ok.tf").write_text(
        'resource "google_dataflow_job" "j" {\n  ip_configuration = "WORKER_IP_PUBLIC"\n}\n'
    )
    result = scan(tmp_path)
    errors = [i for i in result.issues if i.kind == "error"]
    assert [e.path for e in errors] == ["broken.tf"]
    assert "HCL syntax error" in errors[0].message
    assert "DATAFLOW-002" in rule_lines(result)


def test_binary_file_named_main_tf(tmp_path: Path) -> None:
    (tmp_path / "main.tf").write_bytes(b"\x7fELF\x02\x01\x01\x00" + bytes(range(256)) * 20)
    result = scan(tmp_path)
    assert [i.path for i in result.issues if i.kind == "error"] == ["main.tf"]


def test_deeply_nested_hcl_does_not_crash(tmp_path: Path) -> None:
    depth = 3000
    (tmp_path / "deep.tf").write_text("locals {\n  x = " + "[" * depth + "1" + "]" * depth + "\n}\n")
    result = scan(tmp_path)
    assert len(result.issues) <= 1  # a clean per-file error (or nothing), never a crash


def test_python_hcl2_fallback_gives_the_same_findings(monkeypatch: pytest.MonkeyPatch) -> None:
    """Without tree-sitter-hcl the parser falls back to python-hcl2 + a line scan; results must agree."""
    dirs = sorted(p for p in (FIXTURES / "terraform").iterdir() if p.is_dir())
    fast = {d.name: rule_lines(scan(d)) for d in dirs}
    monkeypatch.setattr(terraform._hcl_ts, "available", lambda: False)
    slow = {d.name: rule_lines(scan(d)) for d in dirs}
    assert fast == slow


def test_heredoc_and_escapes(tmp_path: Path) -> None:
    (res, policy) = _parse(
        tmp_path,
        'resource "aws_iam_policy" "p" {\n'
        '  description = "say \\"hi\\"\\n"\n'
        "  policy = <<-EOT\n"
        "    {\n"
        '      "Version": "2012-10-17",\n'
        '      "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]\n'
        "    }\n"
        "  EOT\n"
        "}\n",
    )
    assert res.attributes["description"] == 'say "hi"\n'
    assert policy.attributes["statements"][0]["actions"] == ["*"]
    assert policy.line == 3


_HCL_PIECES = st.sampled_from(
    [
        'resource "google_dataflow_job" "j" {',
        "}",
        "{",
        '  name = "x"',
        "  labels = { a = 1 }",
        '  policy = <<EOT\n{"Statement": []}\nEOT',
        "  count = 0",
        '  dynamic "d" { content { a = var.x } }',
        "  ip = var.ip",
        '  k = jsonencode({A = ["b", 1]})',
        "  l = [for s in var.x : upper(s)]",
        '  s = "a${var.b}\\"c"',
        "#",
        "=",
        '"',
    ]
)


@settings(max_examples=200, deadline=None)
@given(st.lists(_HCL_PIECES | st.text(max_size=15), max_size=25))
def test_hcl_loader_fuzz(pieces: list[str]) -> None:
    text = "\n".join(pieces)
    try:
        doc, _ = terraform.load_hcl(text, "fuzz.tf")
    except ShareguardError:
        return
    assert isinstance(doc, dict)
