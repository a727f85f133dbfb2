"""Free-text detectors (validators, RE2 patterns, masking) and the text-field rules across formats."""

from __future__ import annotations

from pathlib import Path

import pytest
from cloud_helpers import FIXTURES, scan
from hypothesis import given, settings
from hypothesis import strategies as st

from shareguard.core.facts import TextField
from shareguard.sensitive.text import detect
from shareguard.sensitive.validators import credit_card, iban, luhn, us_ssn


@pytest.mark.parametrize(
    ("text", "kind", "detector"),
    [
        ("owner jane.doe@acme-corp.io", "label", "email"),
        ("call +442071838750", "description", "phone"),
        ("card 4539 1488 0343 6467", "tag", "credit_card"),
        ("GB82 WEST 1234 5698 7654 32", "parameter", "iban"),
        ("ssn 536-22-1234", "env", "us_ssn"),
        ("nat 34.123.45.67", "tag", "ipv4_public"),
        ("AKIAIOSFODNN7EXAMPLE", "tag", "aws_access_key_id"),
        ("-----BEGIN PRIVATE KEY-----\nMIIE", "env", "private_key"),
        ("xoxb-123456789012-abcdefghijkl", "annotation", "slack_token"),
        ("AIzaSyA-HAZt9xslXTTIQrh6bpy0VAq3GZuO2R8", "parameter", "google_api_key"),
        ("https://bob:s3cr3tpass@git.acme.io/repo.git", "text", "url_userinfo"),
        ("https://acct.blob.core.windows.net/c/b?sv=2022-11-02&sig=abcdefghijkLMNOP%3D", "text", "url_query_token"),
    ],
)
def test_detectors_find(text: str, kind: str, detector: str) -> None:
    assert detector in {d.detector for d in detect(text, kind=kind)}


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        ("123456789012-compute@developer.gserviceaccount.com", "label"),
        ("card 4539 1488 0343 6468", "tag"),  # fails Luhn
        ("GB82 WEST 1234 5698 7654 33", "parameter"),  # bad check digits
        ("ssn 666-22-1234", "env"),
        ("10.0.0.1", "tag"),
        ("34.123.45.67", "description"),  # public IPs only count in tags/labels
        ("postgres://app:${DB_PASSWORD}@db:5432/x", "text"),
        ("https://example.com/?token=short", "text"),
        ("team data-platform", "label"),
    ],
)
def test_detectors_stay_quiet(text: str, kind: str) -> None:
    assert not detect(text, kind=kind)


def test_validators() -> None:
    assert luhn("79927398713") and not luhn("79927398710")
    assert credit_card("4111-1111-1111-1111") and not credit_card("1234 5678 9012 3456")
    assert iban("DE89370400440532013000") and not iban("DE89370400440532013001")
    assert us_ssn("536-22-1234") and not us_ssn("900-22-1234")


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=3000))
def test_detect_never_crashes(text: str) -> None:
    for d in detect(text, kind="tag"):
        assert text[d.start : d.end] == d.value


def test_catastrophic_input_is_linear() -> None:
    # Long runs that make backtracking engines explode finish at once with RE2.
    for text in ("a" * 60_000 + "@", "1 " * 30_000, "https://" + "a:" * 20_000):
        detect(text, kind="tag")


def test_findings_are_masked_and_located() -> None:
    result = scan(FIXTURES / "terraform" / "text_bad")
    by_rule = {(f.rule_id, f.location.line): f for f in result.findings}
    url = by_rule[("TEXT-003", 13)]
    assert "Sup3rS3cretPw" not in (url.evidence or "") and "db.internal.acme-corp.io" in (url.evidence or "")
    key = by_rule[("TEXT-002", 14)]
    assert key.evidence == "AKIA****************"
    email = by_rule[("TEXT-001", 9)]
    assert "jane.doe@acme-corp.io" not in (email.evidence or "")
    signed = by_rule[("TEXT-003", 21)]
    assert "fe5f80f77d5fa3beca038a248ff027d0445342fe" not in (signed.evidence or "")


def test_text_fields_are_published_as_facts() -> None:
    result = scan(FIXTURES / "terraform" / "text_good")
    fields = result.facts.of(TextField)
    kinds = {(f.kind, f.value) for f in fields}
    assert ("label", "data-platform") in kinds and ("name", "etl") in kinds
    assert all(f.location.line for f in fields)


def test_cloudformation_tag_lists(tmp_path: Path) -> None:
    result = scan(FIXTURES / "cloudformation" / "ml_bad.yaml")
    (f,) = [f for f in result.findings if f.rule_id == "TEXT-001"]
    assert f.location.line == 14 and "tag" in f.title


def test_kubernetes_multi_template_documents_report_each_value_once(tmp_path: Path) -> None:
    (tmp_path / "job.yaml").write_text(
        "apiVersion: kubeflow.org/v1\n"
        "kind: PyTorchJob\n"
        "metadata:\n"
        "  name: train\n"
        "spec:\n"
        "  pytorchReplicaSpecs:\n"
        "    Master:\n"
        "      template:\n"
        "        spec:\n"
        "          containers:\n"
        "            - name: pytorch\n"
        "              image: trainer@sha256:0f2c1bd8b2a3b0e6b7e1c1e9b0f1b7a1c2d3e4f5a6b7c8d9e0f1a2b3c4d5e6f7\n"
        "              env:\n"
        "                - name: MLFLOW_TRACKING_URI\n"
        "                  value: https://mlflow:hunter2hunter2@mlflow.internal.acme.io\n"
        "    Worker:\n"
        "      template:\n"
        "        spec:\n"
        "          containers:\n"
        "            - name: pytorch\n"
        "              image: trainer@sha256:0f2c1bd8b2a3b0e6b7e1c1e9b0f1b7a1c2d3e4f5a6b7c8d9e0f1a2b3c4d5e6f7\n"
    )
    hits = [f for f in scan(tmp_path).findings if f.rule_id == "TEXT-003"]
    assert [(f.location.line, f.location.field_path) for f in hits] == [
        (15, "spec.pytorchReplicaSpecs.Master.template.spec.containers[0].env[0].value")
    ]


def test_fips_environment_setting(tmp_path: Path) -> None:
    (tmp_path / ".shareguard.yaml").write_text("fips: required\n")
    (tmp_path / "lambda.tf").write_text(
        'resource "aws_lambda_function" "f" {\n'
        '  function_name = "f"\n'
        "  environment {\n"
        "    variables = {\n"
        '      AWS_USE_FIPS_ENDPOINT = "false"\n'
        "    }\n"
        "  }\n"
        "}\n"
    )
    hits = [f for f in scan(tmp_path).findings if f.rule_id == "FIPS-001"]
    assert [f.location.line for f in hits] == [5]
