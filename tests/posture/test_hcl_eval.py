"""Values as Terraform computes them: conditionals, lookup, try, coalesce, merge, locals, count and for_each over
variable defaults, dynamic blocks; what stays unknown is reported as unresolved, never as secure."""

from __future__ import annotations

from pathlib import Path

from cloud_helpers import rule_lines, scan
from hypothesis import given, settings
from hypothesis import strategies as st

from shareguard.posture.parsers.hcl_eval import MAX_DEPTH, UNKNOWN_VALUE, Evaluator, Scope

NB = 'resource "aws_sagemaker_notebook_instance" "nb" {\n  name = "nb"\n  role_arn = "r"\n  instance_type = "ml.t3.medium"\n'


def _gaps(result: object, rule: str) -> list[str]:
    duties = result.coverage.duties  # type: ignore[attr-defined]
    return [g.reason for ev in duties.values() for g in ev.gaps if rule in g.reason]


def test_conditional_over_a_variable_default(tmp_path: Path) -> None:
    (tmp_path / "variables.tf").write_text('variable "root_access" {\n  default = true\n}\n')
    (tmp_path / "main.tf").write_text(NB + '  root_access = var.root_access ? "Enabled" : "Disabled"\n}\n')
    lines = rule_lines(scan(tmp_path))
    assert lines["SAGEMAKER-001"] == [5]
    (tmp_path / "terraform.tfvars").write_text("root_access = false\n")
    assert "SAGEMAKER-001" not in rule_lines(scan(tmp_path))


def test_lookup_with_an_insecure_fallback(tmp_path: Path) -> None:
    (tmp_path / "main.tf").write_text(
        'variable "encryption" {\n  default = {}\n}\n'
        'resource "aws_s3_bucket_server_side_encryption_configuration" "e" {\n  bucket = "b"\n'
        "  rule {\n    apply_server_side_encryption_by_default {\n"
        '      sse_algorithm = lookup(var.encryption, "sse_algorithm", "AES256")\n    }\n  }\n}\n'
    )
    result = scan(tmp_path)
    hits = [f for f in result.findings if f.rule_id == "STORAGE-004"]
    assert hits and hits[0].evidence == "AES256"


def test_dynamic_block_with_an_empty_default_is_absent(tmp_path: Path) -> None:
    (tmp_path / "main.tf").write_text(
        'variable "imdsv2" {\n  default = false\n}\n' + NB + '  dynamic "instance_metadata_service_configuration" {\n'
        "    for_each = var.imdsv2 ? [1] : []\n"
        '    content {\n      minimum_instance_metadata_service_version = "2"\n    }\n  }\n}\n'
    )
    assert "SAGEMAKER-010" in rule_lines(scan(tmp_path))
    (tmp_path / "main.tf").write_text((tmp_path / "main.tf").read_text().replace("default = false", "default = true"))
    assert "SAGEMAKER-010" not in rule_lines(scan(tmp_path))


def test_count_zero_by_default_removes_the_resource(tmp_path: Path) -> None:
    (tmp_path / "main.tf").write_text(
        'variable "create" {\n  default = false\n}\n'
        + NB.replace('"nb" {\n', '"nb" {\n  count = var.create ? 1 : 0\n')
        + "}\n"
    )
    assert "SAGEMAKER-001" not in rule_lines(scan(tmp_path))


def test_for_each_lookup_falls_back_to_an_insecure_local(tmp_path: Path) -> None:
    (tmp_path / "main.tf").write_text(
        'variable "notebooks" {\n  default = {\n    locked = { root_access = "Disabled" }\n    open = {}\n  }\n}\n'
        'locals {\n  default_root = "Enabled"\n}\n'
        'resource "aws_sagemaker_notebook_instance" "nb" {\n  for_each = var.notebooks\n  name = each.key\n'
        '  role_arn = "r"\n  instance_type = "ml.t3.medium"\n'
        '  root_access = lookup(each.value, "root_access", local.default_root)\n}\n'
    )
    result = scan(tmp_path)
    hit = {f.resource.name for f in result.findings if f.rule_id == "SAGEMAKER-001"}
    assert hit == {'aws_sagemaker_notebook_instance.nb["open"]'}


def test_try_coalesce_merge(tmp_path: Path) -> None:
    ev = Evaluator(Scope({"cfg": {"a": {"b": "x"}}, "empty": ""}, {"base": {"root": "Disabled"}}))
    assert ev.value('${try(var.cfg.a.b, "d")}') == "x"
    assert ev.value('${try(var.cfg.z.b, "d")}') == "d"
    assert ev.value('${coalesce(var.empty, "fallback")}') == "fallback"
    assert ev.value('${merge(local.base, {root = "Enabled"}).root}') == "Enabled"
    assert ev.value("${can(var.cfg.a)}") is True


def test_unknown_stays_unresolved_never_secure(tmp_path: Path) -> None:
    (tmp_path / "main.tf").write_text(
        'variable "root_access" {}\n' + NB + '  root_access = var.root_access ? "Enabled" : "Disabled"\n}\n'
    )
    result = scan(tmp_path)
    assert "SAGEMAKER-001" not in rule_lines(result)
    assert _gaps(result, "SAGEMAKER-001")
    ev = Evaluator(Scope({}))
    for text in ("${aws_kms_key.k.arn}", "${data.x.y.z}", "${module.m.out}", "${[for s in var.l : s]}", "${f(1)}"):
        assert ev.compute(text) is UNKNOWN_VALUE
        assert ev.value(text) == text


def test_budgets_give_unknown_not_errors() -> None:
    ev = Evaluator(Scope({"x": 1}))
    deep = "${" + "(" * (MAX_DEPTH * 4) + "var.x" + ")" * (MAX_DEPTH * 4) + "}"
    assert ev.compute(deep) is UNKNOWN_VALUE
    assert ev.compute("${" + "1 + " * 30_000 + "1}") is UNKNOWN_VALUE
    cyclic = Evaluator(Scope({}, {"a": "${local.b}", "b": "${local.a}"}))
    assert cyclic.compute("${local.a}") is UNKNOWN_VALUE


_PIECES = [*'${}()[]?:!=<>&|+-*/%.,"\\ abx01', "var.x", "local.y", "try(", "lookup(", "each.value"]


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from(_PIECES), max_size=40))
def test_evaluator_never_raises_on_hostile_expressions(parts: list[str]) -> None:
    text = "".join(parts)
    ev = Evaluator(Scope({"x": {"a": 1}}, {"y": "${var.x}"}))
    ev.value(text)
    ev.compute("${" + text + "}")


def test_local_module_call_arguments_override_defaults(tmp_path: Path) -> None:
    mod = tmp_path / "modules" / "notebook"
    mod.mkdir(parents=True)
    (mod / "variables.tf").write_text('variable "root_access" {\n  default = false\n}\n')
    (mod / "main.tf").write_text(NB + '  root_access = var.root_access ? "Enabled" : "Disabled"\n}\n')
    (tmp_path / "main.tf").write_text('module "nb" {\n  source      = "./modules/notebook"\n  root_access = true\n}\n')
    assert rule_lines(scan(tmp_path))["SAGEMAKER-001"] == [5]
    # two callers that disagree: the value is not static, so unresolved (never secure)
    (tmp_path / "more.tf").write_text(
        'module "nb2" {\n  source      = "./modules/notebook"\n  root_access = false\n}\n'
    )
    result = scan(tmp_path)
    assert "SAGEMAKER-001" not in rule_lines(result)
    assert _gaps(result, "SAGEMAKER-001")


def test_tfvars_apply_to_the_root_module_only(tmp_path: Path) -> None:
    (tmp_path / "main.tf").write_text(
        'variable "root_access" {\n  default = "Disabled"\n}\n' + NB + "  root_access = var.root_access\n}\n"
    )
    assert "SAGEMAKER-001" not in rule_lines(scan(tmp_path))
    (tmp_path / "terraform.tfvars").write_text('root_access = "Enabled"\n')
    assert "SAGEMAKER-001" in rule_lines(scan(tmp_path))
