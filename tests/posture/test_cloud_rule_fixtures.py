"""Every cloud rule (Dataflow, SageMaker, Vertex AI, DLVM, IAM, logging, storage, TLS, FIPS, KMS, text fields)
has a fixture where it fires and one where it stays quiet, and both behave."""

from __future__ import annotations

from importlib import resources

import pytest
from cloud_helpers import FIXTURES, rule_lines, scan

from shareguard.core.rules import load_rules_yaml

RULE_FILES = (
    "dataflow.yaml",
    "sagemaker.yaml",
    "vertexai.yaml",
    "dlvm.yaml",
    "iam.yaml",
    "logging.yaml",
    "storage.yaml",
    "tls.yaml",
    "fips.yaml",
    "kms.yaml",
    "textfields.yaml",
    "bucket_policies.yaml",
)

# rule → (fixture where it fires, fixture where it must not fire), relative to tests/posture/fixtures.
CASES: dict[str, tuple[str, str]] = {
    "DATAFLOW-001": ("terraform/dataflow_bad", "terraform/dataflow_good"),
    "DATAFLOW-002": ("terraform/dataflow_bad", "terraform/dataflow_good"),
    "DATAFLOW-003": ("describe/dataflow_job_streaming.json", "describe/dataflow_job_good.json"),
    "DATAFLOW-004": ("beam/launch.sh", "beam/launch_good.sh"),
    "DATAFLOW-005": ("beam/requirements.txt", "beam/good"),
    "DATAFLOW-006": ("describe/flex_template_spec.json", "describe/flex_template_spec_good.json"),
    "DATAFLOW-007": ("describe/flex_template_spec.json", "describe/flex_template_spec_good.json"),
    "DATAFLOW-008": ("describe/dataflow_job_streaming.json", "describe/dataflow_job_good.json"),
    "SAGEMAKER-001": ("cloudformation/ml_bad.yaml", "cloudformation/ml_good.yaml"),
    "SAGEMAKER-002": ("describe/sagemaker_notebook.json", "describe/sagemaker_notebooks_good.json"),
    "SAGEMAKER-003": ("terraform/sagemaker_bad", "terraform/sagemaker_good"),
    "SAGEMAKER-004": ("terraform/sagemaker_bad", "terraform/sagemaker_good"),
    "SAGEMAKER-005": ("describe/sagemaker_processing_job.json", "describe/sagemaker_training_job_good.json"),
    "SAGEMAKER-006": ("describe/sagemaker_training_job.json", "describe/sagemaker_training_job_good.json"),
    "SAGEMAKER-007": ("describe/sagemaker_training_job.json", "describe/sagemaker_training_job_good.json"),
    "SAGEMAKER-008": ("terraform/sagemaker_bad", "terraform/sagemaker_good"),
    "SAGEMAKER-009": ("cloudformation/ml_bad.yaml", "cloudformation/ml_good.yaml"),
    "VERTEX-001": ("terraform/vertex_bad", "terraform/vertex_good"),
    "VERTEX-002": ("describe/vertex_endpoint.json", "terraform/vertex_good"),
    "VERTEX-003": ("describe/vertex_workbench.json", "terraform/vertex_good"),
    "VERTEX-004": ("terraform/vertex_bad", "terraform/vertex_good"),
    "DLVM-001": ("terraform/dlvm_bad", "terraform/dlvm_good"),
    "DLVM-002": ("terraform/dlvm_bad", "terraform/dlvm_good"),
    "DLVM-003": ("describe/compute_instance.json", "terraform/dlvm_good"),
    "DLVM-004": ("terraform/dlvm_bad", "terraform/dlvm_good"),
    "DLVM-005": ("terraform/dlvm_bad", "terraform/dlvm_good"),
    "DLVM-006": ("describe/compute_instance.json", "terraform/dlvm_good"),
    "DLVM-007": ("describe/compute_instance.json", "terraform/dlvm_good"),
    "IAM-001": ("iam/admin_policy.json", "iam/readonly_policy.json"),
    "IAM-002": ("terraform/iam_bad", "terraform/iam_good"),
    "IAM-003": ("terraform/iam_bad", "terraform/iam_good"),
    "IAM-004": ("terraform/iam_bad", "iam/readonly_policy.json"),
    "IAM-005": ("describe/account_summary.json", "describe/account_summary_good.json"),
    "IAM-006": ("iam/project_policy.json", "iam/project_policy_good.json"),
    "IAM-007": ("terraform/iam_bad", "terraform/iam_good"),
    "IAM-008": ("describe/sa_keys.json", "describe/sa_keys_good.json"),
    "IAM-009": ("iam/project_policy.json", "terraform/iam_good"),
    "IAM-010": ("iam/project_policy.json", "iam/project_policy_good.json"),
    "LOG-001": ("describe/trails.json", "terraform/logging_good"),
    "LOG-002": ("terraform/logging_bad", "terraform/logging_good"),
    "LOG-003": ("cloudformation/ml_bad.yaml", "cloudformation/ml_good.yaml"),
    "LOG-004": ("terraform/logging_bad", "terraform/logging_good"),
    "LOG-005": ("iam/project_policy.json", "iam/project_policy_good.json"),
    "STORAGE-001": ("terraform/storage_bad", "terraform/storage_good"),
    "STORAGE-002": ("cloudformation/ml_bad.yaml", "cloudformation/ml_good.yaml"),
    "STORAGE-003": ("terraform/storage_bad", "terraform/storage_good"),
    "STORAGE-004": ("terraform/storage_bad", "terraform/storage_good"),
    "STORAGE-005": ("cloudformation/ml_bad.yaml", "cloudformation/ml_good.yaml"),
    "STORAGE-006": ("terraform/storage_bad", "terraform/storage_good"),
    "STORAGE-007": ("terraform/storage_bad", "terraform/storage_good"),
    "STORAGE-008": ("terraform/storage_bad", "terraform/storage_good"),
    "TLS-001": ("describe/listeners.json", "terraform/tls_good"),
    "TLS-002": ("terraform/tls_bad", "terraform/tls_good"),
    "TLS-003": ("terraform/tls_bad", "terraform/tls_good"),
    "TLS-004": ("terraform/tls_bad", "terraform/tls_good"),
    "TLS-005": ("terraform/tls_bad", "terraform/tls_good"),
    "TLS-006": ("terraform/tls_bad", "terraform/tls_good"),
    "TLS-007": ("terraform/tls_bad", "terraform/tls_good"),
    "TLS-008": ("terraform/tls_bad", "terraform/tls_good"),
    "FIPS-001": ("terraform/fips_bad", "terraform/fips_good"),
    "FIPS-002": ("terraform/fips_bad", "terraform/fips_off"),
    "KMS-001": ("cloudformation/ml_bad.yaml", "terraform/kms_good"),
    "KMS-002": ("terraform/kms_bad", "terraform/kms_good"),
    "KMS-003": ("terraform/kms_bad", "cloudformation/ml_good.yaml"),
    "TEXT-001": ("terraform/text_bad", "terraform/text_good"),
    "TEXT-002": ("terraform/text_bad", "terraform/text_good"),
    "TEXT-003": ("terraform/text_bad", "terraform/text_good"),
}


def _rule_ids() -> list[str]:
    out: list[str] = []
    for name in RULE_FILES:
        text = resources.files("shareguard.posture").joinpath(f"rules/{name}").read_text(encoding="utf-8")
        out.extend(load_rules_yaml(text, name))
    return sorted(out)


def test_every_cloud_rule_has_fixtures() -> None:
    assert sorted(CASES) == _rule_ids()


def test_rule_metadata_is_complete() -> None:
    from shareguard.posture.plugin import posture_rules

    rules = posture_rules()
    for rid in _rule_ids():
        meta = rules[rid]
        assert meta.remediation and meta.control_ids
        assert meta.references, f"{rid} has no reference"
        assert all(r.startswith("https://") for r in meta.references)


@pytest.mark.parametrize("rule_id", sorted(CASES))
def test_rule_fires_on_positive_fixture(rule_id: str) -> None:
    result = scan(FIXTURES / CASES[rule_id][0])
    assert not [i for i in result.issues if i.kind == "error"]
    lines = rule_lines(result)
    assert rule_id in lines, f"{rule_id} did not fire on {CASES[rule_id][0]}: {sorted(lines)}"
    assert all(isinstance(n, int) and n >= 1 for n in lines[rule_id])


@pytest.mark.parametrize("rule_id", sorted(CASES))
def test_rule_quiet_on_negative_fixture(rule_id: str) -> None:
    result = scan(FIXTURES / CASES[rule_id][1])
    assert not [i for i in result.issues if i.kind == "error"]
    assert rule_id not in rule_lines(result)
