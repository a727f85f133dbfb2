"""Issue #15's "Done when", clause by clause, end to end through the CLI (the real application, the bundled
catalog generated from the real AWS DLC release data)."""

from __future__ import annotations

import json
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "sources"))

from imagebuild import directory, file, make_layer, write_docker_archive

from shareguard.cli.main import build_app

NOW = datetime(2026, 12, 3, 12, 0, tzinfo=UTC)
EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "ml-platform"

# What the AWS DLC build writes (aws/deep-learning-containers: telemetry.sh rendered for the image, the
# SageMaker labels build_image.sh applies, DLC_CONTAINER_TYPE in the Dockerfile's ENV).
TELEMETRY = """#!/bin/bash
if [ -f /usr/local/bin/deep_learning_container.py ] && [[ -z "${OPT_OUT_TRACKING}" || "${OPT_OUT_TRACKING,,}" != "true" ]]; then
    (
        python /usr/local/bin/deep_learning_container.py \\
            --framework "pytorch" \\
            --framework-version "2.6.0" \\
            --container-type "training" \\
            &>/dev/null &
    )
fi
"""
LABELS = {
    "maintainer": "Amazon AI",
    "dlc_major_version": "1",
    "com.amazonaws.ml.engines.sagemaker.dlc.arch.x86_64": "true",
    "com.amazonaws.ml.engines.sagemaker.dlc.device.gpu": "true",
    "com.amazonaws.ml.engines.sagemaker.dlc.framework.pytorch.2.6.0": "true",
    "com.amazonaws.ml.engines.sagemaker.dlc.job.training": "true",
    "com.amazonaws.ml.engines.sagemaker.dlc.os.ubuntu22.04": "true",
    "com.amazonaws.ml.engines.sagemaker.dlc.python.py312": "true",
}


@pytest.fixture(autouse=True)
def _pinned_now(monkeypatch: pytest.MonkeyPatch) -> None:
    """The CLI's scan clock (SHAREGUARD_NOW): end-of-patch dates and ages judged on one fixed day."""
    monkeypatch.setenv("SHAREGUARD_NOW", NOW.isoformat())


def run(*args: str) -> tuple[int, dict[str, Any], str]:
    result = CliRunner().invoke(build_app(), [*args, "--format", "json", "--quiet"], catch_exceptions=False)
    doc = json.loads(result.stdout) if result.stdout.strip() else {}
    return result.exit_code, doc, result.stderr


def findings(doc: dict[str, Any], prefix: str) -> list[dict[str, Any]]:
    return [f for f in doc["findings"] if f["rule_id"].startswith(prefix)]


def duty(doc: dict[str, Any], control: str) -> dict[str, Any]:
    return next(c for c in doc["controls"] if c["id"] == control)


TORCH = "usr/local/lib/python3.12/site-packages/torch"


def _dlc_image(
    tmp_path: Path, *, labels: dict[str, str], env: list[str], telemetry: bool, torch: str | None = None
) -> Path:
    entries = [directory("usr"), directory("usr/local"), directory("usr/local/bin")]
    if telemetry:
        entries.append(file("usr/local/bin/bash_telemetry.sh", TELEMETRY))
    if torch:
        # What torch's own build writes (torch/version.py): the inventory's FrameworkBuild fact.
        entries.append(file(f"{TORCH}/version.py", f"__version__ = '{torch}'\ncuda: Optional[str] = '12.6'\n"))
    layer = make_layer(entries)
    config = json.dumps(
        {
            "architecture": "amd64",
            "os": "linux",
            "created": "2025-02-10T12:00:00Z",
            "config": {"Labels": labels, "Env": env},
            "rootfs": {"type": "layers", "diff_ids": [layer.diff_id]},
        }
    ).encode()
    return write_docker_archive(tmp_path / "dlc.tar", [layer], config=config, tag="pytorch-training:2.6.0-gpu-py312")


def test_dlc_image_past_end_of_patch_is_told_the_exact_newer_tag(tmp_path: Path) -> None:
    env = ["PATH=/usr/local/bin:/usr/bin", "DLC_CONTAINER_TYPE=training", "SAGEMAKER_TRAINING_MODULE=x"]
    archive = _dlc_image(tmp_path, labels=LABELS, env=env, telemetry=True, torch="2.6.0+cu126")
    code, doc, _ = run("image", "--input", str(archive))
    assert code in (0, 3)
    eop = findings(doc, "FRESH-DLC-001")
    assert len(eop) == 1, doc["findings"]
    f = eop[0]
    assert f["control_ids"] == ["DLC-C-01"] and f["severity"] == "high"
    # pytorch-training 2.6 (SageMaker, GPU) ended patching on 2026-01-29; 2.10 is the line still patched.
    assert "2026-01-29" in f["evidence"]
    assert f["properties"]["move_to"] == "2.10.0-gpu-py313-cu130-ubuntu22.04-sagemaker"
    assert "pytorch-training:2.10.0-gpu-py313-cu130-ubuntu22.04-sagemaker" in f["remediation"]["command"]
    ident = f["properties"]["identified"]
    assert ident["confidence"] == "high" and ident["container_type"] == "training"
    assert any("bash_telemetry.sh" in e for e in ident["evidence"])
    assert any(e.startswith("installed torch 2.6.0+cu126 (CUDA 12.6)") for e in ident["evidence"])
    assert duty(doc, "DLC-C-01")["status"] == "fail"


def test_installed_framework_that_disagrees_with_the_markers_lowers_the_confidence(tmp_path: Path) -> None:
    archive = _dlc_image(tmp_path, labels=LABELS, env=[], telemetry=True, torch="2.8.0")
    _, doc, _ = run("image", "--input", str(archive))
    (f,) = findings(doc, "FRESH-DLC-001")
    ident = f["properties"]["identified"]
    assert ident["confidence"] == "medium"
    assert any("installed torch 2.8.0 is not the 2.6.0" in e for e in ident["evidence"])


def test_installed_framework_alone_does_not_identify_a_vendor_image(tmp_path: Path) -> None:
    archive = _dlc_image(tmp_path, labels={}, env=[], telemetry=False, torch="2.2.0")
    _, doc, _ = run("image", "--input", str(archive))
    assert not findings(doc, "FRESH-")
    reason = duty(doc, "DLC-C-01")["reason"]
    assert "unidentified" in reason and "installed torch 2.2.0" in reason


def test_dlc_image_identified_from_the_telemetry_script_alone(tmp_path: Path) -> None:
    archive = _dlc_image(tmp_path, labels={}, env=[], telemetry=True)
    _, doc, _ = run("image", "--input", str(archive))
    (f,) = findings(doc, "FRESH-DLC-001")
    # No platform evidence: the newest supported line of pytorch-training still is the move.
    assert f["properties"]["move_to"].startswith("2.10.0-")


def test_an_image_with_only_env_evidence_is_unidentified_not_guessed(tmp_path: Path) -> None:
    archive = _dlc_image(tmp_path, labels={}, env=["DLC_CONTAINER_TYPE=inference"], telemetry=False)
    _, doc, _ = run("image", "--input", str(archive))
    assert not findings(doc, "FRESH-")
    dlc = duty(doc, "DLC-C-01")
    assert dlc["status"] == "not_assessed"
    assert "unidentified" in dlc["reason"] and "DLC_CONTAINER_TYPE=inference" in dlc["reason"]
    images = doc["metadata"]["freshness"]["images"]
    assert images[0]["confidence"] == "none"


def test_dataflow_job_with_the_deprecated_agent_and_a_45_day_old_create_time_gets_both_findings(
    tmp_path: Path,
) -> None:
    created = (NOW - timedelta(days=45)).isoformat().replace("+00:00", "Z")
    job = {
        "id": "2026-10-19_02_11_03-1234567890",
        "projectId": "example",
        "name": "events-stream",
        "type": "JOB_TYPE_STREAMING",
        "currentState": "JOB_STATE_RUNNING",
        "createTime": created,
        "environment": {"experiments": ["enable_stackdriver_agent_metrics", "use_runner_v2"]},
    }
    (tmp_path / "job.json").write_text(json.dumps(job))
    _, doc, _ = run("audit", str(tmp_path))
    ids = {f["rule_id"]: f for f in doc["findings"]}
    assert "DATAFLOW-004" in ids and ids["DATAFLOW-004"]["evidence"] == "enable_stackdriver_agent_metrics"
    assert "DATAFLOW-008" in ids and "45 days" in ids["DATAFLOW-008"]["title"] + str(
        ids["DATAFLOW-008"]["evidence"]
    ) + str(ids["DATAFLOW-008"].get("description"))
    assert duty(doc, "DATAFLOW-C-02")["status"] == "fail"
    # The threshold is an option: at 60 days the same job is not yet long-running.
    result = CliRunner().invoke(
        build_app(), ["audit", str(tmp_path), "--format", "json", "--quiet", "--long-running-days", "60"]
    )
    doc60 = json.loads(result.stdout)
    assert "DATAFLOW-008" not in {f["rule_id"] for f in doc60["findings"]}


def test_dlvm_root_filesystem_of_an_old_family_is_identified_and_told_the_family_to_move_to(tmp_path: Path) -> None:
    meta = tmp_path / "rootfs" / "opt" / "deeplearning" / "metadata"
    meta.mkdir(parents=True)
    (meta / "env_version").write_text("m112\n")
    (meta / "env_uri").write_text("us-docker.pkg.dev/deeplearning-platform-release/gcr.io/pytorch-cu121.2-2.py310\n")
    _, doc, _ = run("rootfs", str(tmp_path / "rootfs"))
    (f,) = findings(doc, "FRESH-DLVM-001")
    assert f["control_ids"] == ["DLVM-C-01"]
    ident = f["properties"]["identified"]
    assert (ident["framework"], ident["version"], ident["confidence"]) == ("pytorch", "2.2", "high")
    # The newest supported family of the same framework, by Google's family naming scheme.
    assert f["properties"]["move_to"].startswith("pytorch-2-10-cu")
    assert f"--image-family={f['properties']['move_to']}" in f["remediation"]["command"]


def test_example_workspace_shows_the_freshness_findings_under_the_right_duties() -> None:
    _, doc, _ = run("audit", str(EXAMPLE))
    by_rule: dict[str, set[str]] = {}
    for f in findings(doc, "FRESH-"):
        by_rule.setdefault(f["rule_id"], set()).add(f["resource"]["path"])
    assert "sagemaker/training-job.json" in by_rule["FRESH-DLC-001"]
    assert "vertex/custom-job.json" in by_rule["FRESH-DLC-001"]
    assert "dlvm/rootfs/opt/deeplearning/metadata/env_uri" in by_rule["FRESH-DLVM-001"]
    assert "compute/notebook-instance.json" in by_rule["FRESH-DLVM-004"]
    assert {"sagemaker/endpoint.json", "sagemaker/training-job.json", "vertex/custom-job.json"} <= by_rule[
        "FRESH-JOB-001"
    ]
    assert "compute/notebook-instance.json" in by_rule["FRESH-JOB-002"]
    for control in ("DLC-C-01", "DLVM-C-01", "DLC-C-04", "DLVM-C-04", "DATAFLOW-C-01", "DATAFLOW-C-02"):
        assert duty(doc, control)["status"] == "fail", control
    dataflow = {f["rule_id"] for f in doc["findings"] if f["resource"]["path"] == "dataflow/job.json"}
    assert {"DATAFLOW-004", "DATAFLOW-005", "DATAFLOW-008"} <= dataflow
