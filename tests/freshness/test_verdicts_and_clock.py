"""Freshness verdicts against an injected scan clock (`ScanClock`): the same input gives the same findings on any
day. End-of-patch thresholds (30 days high, 90 medium), a pass where the image was judged and is current, the
long-running threshold, staleness of the catalog, and hostile job descriptions and markers."""

from __future__ import annotations

import contextlib
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from shareguard.core.clock import ScanClock
from shareguard.core.errors import ShareguardError
from shareguard.core.options import OptionSet
from shareguard.core.result import ScanResult
from shareguard.freshness.bulletins import parse_feed
from shareguard.freshness.options import FreshnessOptions
from shareguard.posture.options import PostureOptions
from shareguard.scan import run_path_scan

ECR = "763104351884.dkr.ecr.us-east-1.amazonaws.com"


def _job(tmp_path: Path, image: str, started: str, status: str = "InProgress") -> Path:
    (tmp_path / "job.json").write_text(
        json.dumps(
            {
                "TrainingJobName": "t1",
                "TrainingJobStatus": status,
                "AlgorithmSpecification": {"TrainingImage": image, "TrainingInputMode": "File"},
                "CreationTime": started,
                "TrainingStartTime": started,
            }
        )
    )
    return tmp_path


def scan(path: Path, at: str, *options: Any) -> ScanResult:
    clock = ScanClock(datetime.fromisoformat(at).replace(tzinfo=UTC))
    return run_path_scan(path, options=OptionSet((clock, *options)))


def rules(result: ScanResult) -> dict[str, Any]:
    return {f.rule_id: f for f in result.findings if f.rule_id.startswith("FRESH-")}


def verdict(result: ScanResult, control: str) -> tuple[int, int]:
    ev = result.coverage.of(control)
    return (len(ev.resources), len(ev.rules)) if ev else (0, 0)


IMAGE_210 = f"{ECR}/pytorch-training:2.10.0-gpu-py313-cu130-ubuntu22.04-sagemaker"  # end of patch 2027-01-21


@pytest.mark.parametrize(
    ("at", "severity"),
    [("2027-01-01T00:00:00", "high"), ("2026-11-15T00:00:00", "medium"), ("2026-09-01T00:00:00", None)],
)
def test_end_of_patch_soon_is_high_within_30_days_and_medium_within_90(
    tmp_path: Path, at: str, severity: str | None
) -> None:
    result = scan(_job(tmp_path, IMAGE_210, "2026-08-30T00:00:00Z"), at)
    soon = rules(result).get("FRESH-DLC-002")
    if severity is None:
        assert soon is None and "FRESH-DLC-001" not in rules(result)
        # Judged and current: DLC-C-01 rests on evaluations of this image, so it can pass.
        assert verdict(result, "DLC-C-01")[0] >= 1
        assert not [f for f in result.findings if "DLC-C-01" in f.control_ids]
    else:
        assert soon is not None and soon.severity.value == severity and "2027-01-21" in (soon.evidence or "")


def test_past_end_of_patch_names_the_newest_supported_tag_of_the_same_platform(tmp_path: Path) -> None:
    image = f"{ECR}/pytorch-training:2.6.0-gpu-py312-cu126-ubuntu22.04-sagemaker"
    result = scan(_job(tmp_path, image, "2026-08-30T00:00:00Z"), "2026-12-03T00:00:00")
    f = rules(result)["FRESH-DLC-001"]
    assert f.properties["move_to"] == "2.10.0-gpu-py313-cu130-ubuntu22.04-sagemaker"
    # A year before its end of patch the same image is current.
    early = scan(_job(tmp_path, image, "2025-03-01T00:00:00Z"), "2025-03-02T00:00:00")
    assert "FRESH-DLC-001" not in rules(early) and "FRESH-DLC-002" not in rules(early)


def test_long_running_threshold_is_a_scan_option(tmp_path: Path) -> None:
    _job(tmp_path, IMAGE_210, "2026-10-01T00:00:00Z")
    at = "2026-11-15T00:00:00"  # 45 days later
    assert "FRESH-JOB-001" in rules(scan(tmp_path, at))
    assert "FRESH-JOB-001" not in rules(scan(tmp_path, at, FreshnessOptions(long_running_days=60)))
    stopped = scan(_job(tmp_path, IMAGE_210, "2026-10-01T00:00:00Z", status="Completed"), at)
    assert "FRESH-JOB-001" not in rules(stopped)


def test_dataflow_age_and_sdk_support_follow_the_scan_clock(tmp_path: Path) -> None:
    (tmp_path / "job.json").write_text(
        json.dumps(
            {
                "id": "j",
                "projectId": "p",
                "type": "JOB_TYPE_STREAMING",
                "currentState": "JOB_STATE_RUNNING",
                "createTime": "2026-10-01T00:00:00Z",
                "environment": {"experiments": ["enable_stackdriver_agent_metrics"]},
            }
        )
    )
    ids = lambda r: {f.rule_id for f in r.findings}  # noqa: E731
    assert {"DATAFLOW-004", "DATAFLOW-008"} <= ids(scan(tmp_path, "2026-11-15T00:00:00"))
    assert "DATAFLOW-008" not in ids(scan(tmp_path, "2026-10-20T00:00:00"))
    assert "DATAFLOW-008" not in ids(scan(tmp_path, "2026-11-15T00:00:00", PostureOptions(long_running_days=60)))


def test_a_stale_catalog_gives_one_warning(tmp_path: Path) -> None:
    _job(tmp_path, IMAGE_210, "2026-10-01T00:00:00Z")
    result = scan(tmp_path, "2027-06-01T00:00:00")
    warnings = [i for i in result.issues if i.kind == "warning" and "release catalog" in i.message]
    assert len(warnings) == 1 and "catalog update" in warnings[0].message


def test_unknown_line_is_not_assessed_never_guessed(tmp_path: Path) -> None:
    result = scan(
        _job(tmp_path, f"{ECR}/pytorch-training:9.9.0-gpu-py399-sagemaker", "2026-10-01T00:00:00Z"),
        "2026-11-01T00:00:00",
    )
    assert not [f for f in result.findings if f.rule_id.startswith("FRESH-DLC")]
    ev = result.coverage.of("DLC-C-01")
    assert ev is not None and any("not in the release catalog" in r for r in ev.reasons)


def test_hostile_job_descriptions_are_per_file_errors(tmp_path: Path) -> None:
    (tmp_path / "deep.json").write_text('{"TrainingJobName": "x", "a": ' + "[" * 5000 + "]" * 5000 + "}")
    (tmp_path / "broken.json").write_text('{"TrainingJobName": "x", "TrainingJobStatus": ')
    result = scan(tmp_path, "2026-11-01T00:00:00")
    mine = [i for i in result.issues if i.analyzer == "freshness.jobs"]
    assert {i.path for i in mine} == {"deep.json", "broken.json"}
    ev = result.coverage.of("DLC-C-04")
    assert ev is not None and ev.gaps


def test_telemetry_script_with_placeholders_leaves_the_image_unidentified(tmp_path: Path) -> None:
    bin_dir = tmp_path / "root" / "usr" / "local" / "bin"
    bin_dir.mkdir(parents=True)
    (bin_dir / "bash_telemetry.sh").write_text(
        'python x.py --framework "${FRAMEWORK}" --framework-version "${FRAMEWORK_VERSION}"\n'
    )
    result = scan(tmp_path, "2026-11-01T00:00:00")
    assert not rules(result)
    ev = result.coverage.of("DLC-C-01")
    assert ev is not None and any("unidentified" in r and "no literal framework" in r for r in ev.reasons)


@settings(max_examples=150, deadline=None)
@given(st.binary(max_size=600))
def test_fuzz_bulletin_feeds_only_ever_raise_user_errors(data: bytes) -> None:
    with contextlib.suppress(ShareguardError):
        parse_feed(data, "fuzz.xml")


def test_feed_with_entity_declarations_and_duplicates_is_refused() -> None:
    bomb = b'<?xml version="1.0"?><!DOCTYPE f [<!ENTITY a "aaaa"><!ENTITY b "&a;&a;&a;">]><feed xmlns="http://www.w3.org/2005/Atom">&b;</feed>'
    with pytest.raises(ShareguardError, match="entities"):
        parse_feed(bomb, "bomb.xml")
    entry = '{"id": "B-1", "published": "2026-01-01T00:00:00Z", "affected": [{"package": {"name": "img"}}]}'
    with pytest.raises(ShareguardError, match="duplicate entry B-1"):
        parse_feed(f"[{entry}, {entry}]".encode(), "dup.json")
    with pytest.raises(ShareguardError, match="unknown field"):
        parse_feed(b'[{"id": "B-2", "published": "2026-01-01", "colour": "red"}]', "x.json")


def test_terraform_image_families_are_identified_tracking_families_are_current(tmp_path: Path) -> None:
    (tmp_path / "main.tf").write_text(
        """resource "google_workbench_instance" "nb" {
  name     = "nb"
  location = "europe-west1-b"
  gce_setup {
    vm_image {
      project = "cloud-notebooks-managed"
      family  = "workbench-instances"
    }
  }
}

resource "google_compute_instance" "dlvm" {
  name         = "dlvm"
  machine_type = "g2-standard-8"
  zone         = "europe-west4-a"
  boot_disk {
    initialize_params {
      image = "deeplearning-platform-release/pytorch-2-2-cu121-ubuntu-2204-py310"
    }
  }
  network_interface {
    network = "default"
  }
}
"""
    )
    result = scan(tmp_path, "2026-12-03T00:00:00")
    eop = rules(result)["FRESH-DLVM-001"]
    assert eop.resource.path == "main.tf" and "pytorch-2-2-cu121" in (eop.resource.name or "")
    assert eop.properties["move_to"].startswith("pytorch-2-10-")
    judged = result.coverage.of("DLVM-C-01")
    assert judged is not None and any("workbench-instances" in r for r in judged.resources)
    assert not [f for f in result.findings if "workbench-instances" in (f.resource.name or "")]


def test_image_references_in_kubernetes_and_cloudformation_are_judged(tmp_path: Path) -> None:
    (tmp_path / "deploy.yaml").write_text(
        f"""apiVersion: apps/v1
kind: Deployment
metadata: {{name: serve}}
spec:
  selector: {{matchLabels: {{app: serve}}}}
  template:
    metadata: {{labels: {{app: serve}}}}
    spec:
      containers:
        - name: serve
          image: {ECR}/pytorch-inference:2.6.0-gpu-py312-cu124-ubuntu22.04-sagemaker
"""
    )
    (tmp_path / "stack.yaml").write_text(
        f"""AWSTemplateFormatVersion: "2010-09-09"
Resources:
  Model:
    Type: AWS::SageMaker::Model
    Properties:
      ExecutionRoleArn: arn:aws:iam::123456789012:role/sm
      PrimaryContainer:
        Image: {IMAGE_210}
"""
    )
    result = scan(tmp_path, "2026-12-03T00:00:00")
    by_path = {(f.rule_id, f.resource.path) for f in result.findings if f.rule_id.startswith("FRESH-DLC")}
    assert ("FRESH-DLC-001", "deploy.yaml") in by_path
    assert ("FRESH-DLC-002", "stack.yaml") in by_path  # 2.10 ends patching on 2027-01-21: 49 days
