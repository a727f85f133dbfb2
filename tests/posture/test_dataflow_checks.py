"""Dataflow checks end to end: the issue's 'done when' (a Flex Template job with the deprecated experiment and
no CMEK, in Terraform and describe JSON, gets both findings with lines) and the data-driven parts."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from cloud_helpers import FIXTURES, rule_lines, scan

from shareguard.freshness import store
from shareguard.freshness.beam import sdk_support

FLEX_TF = """\
resource "google_dataflow_flex_template_job" "big_data_job" {
  provider                = google-beta
  name                    = "dataflow-flextemplates-job"
  container_spec_gcs_path = "gs://my-bucket/templates/template.json"
  parameters = {
    inputSubscription = "messages"
  }
  additional_experiments = [
    "enable_stackdriver_agent_metrics",
  ]
}
"""


def test_flex_template_terraform_gets_experiment_and_cmek_findings_with_lines(tmp_path: Path) -> None:
    (tmp_path / "dataflow.tf").write_text(FLEX_TF)
    result = scan(tmp_path)
    lines = rule_lines(result)
    assert lines["DATAFLOW-001"] == [1]  # no kms_key_name: the resource line
    assert lines["DATAFLOW-004"] == [8]  # the additional_experiments attribute
    finding = next(f for f in result.findings if f.rule_id == "DATAFLOW-004")
    assert finding.resource.path == "dataflow.tf"
    assert finding.resource.name == "google_dataflow_flex_template_job.big_data_job"
    assert "enable_stackdriver_agent_metrics" in finding.title
    assert "DATAFLOW-C-04" in finding.control_ids


def test_flex_template_describe_json_gets_both_findings_with_lines() -> None:
    result = scan(FIXTURES / "describe" / "dataflow_job_streaming.json")
    lines = rule_lines(result)
    assert lines["DATAFLOW-004"] == [6]  # environment.experiments
    assert lines["DATAFLOW-001"] == [1]  # serviceKmsKeyName absent: the job object
    assert lines["DATAFLOW-002"] == [27]  # workerPools[0].ipConfiguration
    assert lines["DATAFLOW-003"] == [11]  # serviceAccountEmail


def test_flex_template_plan_json_child_module() -> None:
    result = scan(FIXTURES / "plan" / "plan.json")
    names = {(f.rule_id, f.resource.name) for f in result.findings}
    assert ("DATAFLOW-004", "module.pipeline.google_dataflow_flex_template_job.job") in names
    # after_unknown kms/service account on the private job: unknown, so no finding on them (it sets no
    # network, so DATAFLOW-009 of the attribute tables may fire there)
    assert not any(n == "google_dataflow_job.private" and r != "DATAFLOW-009" for r, n in names)


def test_summary_view_describe_does_not_claim_missing_settings(tmp_path: Path) -> None:
    # `gcloud dataflow jobs list` / the summary view have no environment: nothing can be judged missing.
    result = scan(FIXTURES / "describe" / "dataflow_jobs_list.json")
    assert set(rule_lines(result)) == {"DATAFLOW-005"}


def test_sdk_status_from_the_release_catalog() -> None:
    # DATAFLOW-005 reads the freshness catalog's Beam table (data/beam.yaml); release dates from Maven Central.
    today = date(2026, 11, 23)
    cat = store.bundled()
    assert sdk_support("2.48.0", cat, today).status == "deprecated"
    assert sdk_support("1.9.1", cat, today).status == "deprecated"
    assert sdk_support("2.69.0", cat, today).status == "deprecated"  # released 2025-10-21, 12 months of support
    assert sdk_support("2.69.0", cat, date(2026, 1, 1)).status == "supported"
    assert sdk_support("2.71.0", cat, today).status == "unknown"  # not listed: never taken as supported
    assert sdk_support("not-a-version", cat, today).status == "unknown"


def _streaming_job(created: datetime) -> dict[str, object]:
    return {
        "id": "2026-01-01_00_00_00-1",
        "projectId": "p",
        "name": "stream",
        "type": "JOB_TYPE_STREAMING",
        "currentState": "JOB_STATE_RUNNING",
        "createTime": created.isoformat().replace("+00:00", "Z"),
        "environment": {"serviceKmsKeyName": "k", "serviceAccountEmail": "w@p.iam.gserviceaccount.com"},
    }


def test_long_running_threshold_is_configurable(tmp_path: Path) -> None:
    job = tmp_path / "job.json"
    job.write_text(json.dumps(_streaming_job(datetime.now(UTC) - timedelta(days=10)), indent=2))
    assert "DATAFLOW-008" not in rule_lines(scan(job))  # default 30 days
    assert "DATAFLOW-008" in rule_lines(scan(job, long_running_days=5))
    (tmp_path / ".shareguard.yaml").write_text("long_running_days: 7\n")
    assert "DATAFLOW-008" in rule_lines(scan(tmp_path))


def test_batch_or_finished_jobs_are_not_long_running(tmp_path: Path) -> None:
    old = _streaming_job(datetime.now(UTC) - timedelta(days=400))
    old["currentState"] = "JOB_STATE_CANCELLED"
    (tmp_path / "job.json").write_text(json.dumps(old))
    assert "DATAFLOW-008" not in rule_lines(scan(tmp_path))
