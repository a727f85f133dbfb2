"""Describe-API JSON: content sniffing, wrappers and lists, canonical attributes, lines, bad input."""

from __future__ import annotations

import json
from pathlib import Path

from cloud_helpers import FIXTURES, rule_lines, scan

from shareguard.core.context import ScanContext
from shareguard.core.entry import FileEntry
from shareguard.core.settings import Settings
from shareguard.posture.parsers import describe


def _parse(p: Path) -> list:  # type: ignore[type-arg]
    e = FileEntry(rel_path=p.name, size=p.stat().st_size, abs_path=p)
    assert describe.claim(e)
    return describe.parse(e, ScanContext(settings=Settings()))


def test_dataflow_job_canonical_attributes() -> None:
    (job,) = _parse(FIXTURES / "describe" / "dataflow_job_streaming.json")
    a = job.attributes
    assert job.type == "gcp.dataflow.job"
    assert a["experiments"] == ["enable_stackdriver_agent_metrics", "use_runner_v2", "enable_streaming_engine"]
    assert a["ip_configuration"] == "WORKER_IP_PUBLIC"
    assert a["sdk_version"] == "2.48.0"
    assert a["job_type"] == "streaming" and a["state"] == "JOB_STATE_RUNNING"
    assert a["kms_key_name"] is None


def test_wrapper_and_list_shapes() -> None:
    (nb,) = _parse(FIXTURES / "describe" / "sagemaker_notebooks_good.json")
    assert nb.type == "aws.sagemaker.notebook" and nb.line == 3
    keys = _parse(FIXTURES / "describe" / "sa_keys.json")
    assert [k.attributes["key_type"] for k in keys] == ["USER_MANAGED", "SYSTEM_MANAGED"]
    assert [k.line for k in keys] == [2, 10]


def test_compute_instance_metadata_items_and_public_ip() -> None:
    (vm,) = _parse(FIXTURES / "describe" / "compute_instance.json")
    assert vm.attributes["metadata"]["install-nvidia-driver"] == "True"
    assert vm.attributes["public_ip"] is True
    assert vm.attributes["secure_boot"] is False


def test_vertex_resources_by_name() -> None:
    (ep,) = _parse(FIXTURES / "describe" / "vertex_endpoint.json")
    (wb,) = _parse(FIXTURES / "describe" / "vertex_workbench.json")
    assert ep.type == "gcp.vertexai.endpoint"
    assert wb.type == "gcp.vertexai.notebook" and wb.attributes["service_account"].startswith("123456789012-compute")


def test_unrelated_json_is_not_claimed(tmp_path: Path) -> None:
    p = tmp_path / "package.json"
    p.write_text(json.dumps({"name": "web", "version": "1.0.0", "dependencies": {}}))
    assert not describe.claim(FileEntry(rel_path=p.name, size=p.stat().st_size, abs_path=p))
    q = tmp_path / "notebook.ipynb"
    q.write_text(json.dumps({"cells": [], "metadata": {}, "nbformat": 4}))
    assert not describe.claim(FileEntry(rel_path=q.name, size=q.stat().st_size, abs_path=q))


def test_claimed_json_with_unknown_shape_gives_nothing(tmp_path: Path) -> None:
    (tmp_path / "x.json").write_text(json.dumps({"currentState": "on", "note": "not a Dataflow job"}))
    result = scan(tmp_path)
    assert not result.findings and not result.issues


def test_huge_list_and_malformed_json(tmp_path: Path) -> None:
    items = [
        {
            "NotebookInstanceName": f"nb{i}",
            "InstanceType": "ml.t3.medium",
            "RootAccess": "Disabled",
            "DirectInternetAccess": "Disabled",
            "SubnetId": "s",
            "KmsKeyId": "k",
        }
        for i in range(5000)
    ]
    (tmp_path / "big.json").write_text(json.dumps({"NotebookInstances": items}))
    (tmp_path / "bad.json").write_text('{"NotebookInstanceName": "x", "InstanceType": ')
    result = scan(tmp_path)
    assert [i.path for i in result.issues if i.kind == "error"] == ["bad.json"]
    assert not result.findings


def test_lines_point_at_fields() -> None:
    lines = rule_lines(scan(FIXTURES / "describe" / "sagemaker_notebook.json"))
    assert lines["SAGEMAKER-001"] == [12] and lines["SAGEMAKER-002"] == [10]


def test_gcs_bucket_and_s3_public_access_block(tmp_path: Path) -> None:
    (tmp_path / "bucket.json").write_text(
        json.dumps(
            {
                "kind": "storage#bucket",
                "id": "ml-datasets",
                "name": "ml-datasets",
                "location": "US",
                "iamConfiguration": {
                    "uniformBucketLevelAccess": {"enabled": True},
                    "publicAccessPrevention": "inherited",
                },
                "encryption": {"defaultKmsKeyName": "projects/p/locations/us/keyRings/r/cryptoKeys/k"},
            },
            indent=2,
        )
    )
    (tmp_path / "pab.json").write_text(
        json.dumps(
            {
                "PublicAccessBlockConfiguration": {
                    "BlockPublicAcls": True,
                    "IgnorePublicAcls": True,
                    "BlockPublicPolicy": False,
                    "RestrictPublicBuckets": True,
                }
            },
            indent=4,
        )
    )
    lines = rule_lines(scan(tmp_path))
    assert lines == {"STORAGE-007": [10], "STORAGE-001": [5]}
