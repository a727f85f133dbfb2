"""Vertex AI training jobs and persistent resources from job specs (gcloud --config, REST bodies) and Python SDK
launch code (written from the Vertex AI REST and SDK references)."""

from __future__ import annotations

import contextlib
import json
from pathlib import Path

import pytest
from cloud_helpers import scan
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from shareguard.core.context import ScanContext
from shareguard.core.entry import FileEntry
from shareguard.core.errors import ShareguardError
from shareguard.core.result import ScanResult
from shareguard.core.settings import Settings
from shareguard.posture.parsers import vertex_jobs, vertex_sdk

KEY = "projects/acme-ml/locations/us-central1/keyRings/ml/cryptoKeys/train"
NET = "projects/123456789/global/networks/ml-vpc"
SA = "trainer@acme-ml.iam.gserviceaccount.com"
GCLOUD_BAD = """workerPoolSpecs:
  - machineSpec:
      machineType: n1-standard-8
    replicaCount: 1
    containerSpec:
      imageUri: us-docker.pkg.dev/acme/train/trainer:1.4
serviceAccount: 123456789-compute@developer.gserviceaccount.com
enableWebAccess: true
"""
GCLOUD_GOOD = f"""workerPoolSpecs:
  - machineSpec:
      machineType: n1-standard-8
    replicaCount: 1
    containerSpec:
      imageUri: us-docker.pkg.dev/acme/train/trainer:1.4
serviceAccount: {SA}
network: {NET}
"""
POOL = {"machineSpec": {"machineType": "n1-standard-8"}, "replicaCount": "1"}


def _rules(result: ScanResult, prefix: str = "VERTEX-03") -> dict[str, list[int | None]]:
    out: dict[str, list[int | None]] = {}
    for f in result.findings:
        if f.rule_id.startswith(prefix):
            out.setdefault(f.rule_id, []).append(f.location.line)
    return out


def _evaluated(result: ScanResult, rule: str) -> bool:
    return any(rule in ev.rules for ev in result.coverage.duties.values())


def test_gcloud_config_file(tmp_path: Path) -> None:
    (tmp_path / "job.yaml").write_text(GCLOUD_BAD)
    assert _rules(scan(tmp_path)) == {"VERTEX-031": [7], "VERTEX-032": [1], "VERTEX-033": [8]}
    (tmp_path / "job.yaml").write_text(GCLOUD_GOOD)
    result = scan(tmp_path)
    assert _rules(result) == {}
    for rule in ("VERTEX-031", "VERTEX-032", "VERTEX-033"):
        assert _evaluated(result, rule), rule
    assert not _evaluated(result, "VERTEX-030")  # the key is a command-line flag, not in the file


@pytest.mark.parametrize(
    ("body", "fired"),
    [
        ({"displayName": "j", "jobSpec": {"workerPoolSpecs": [POOL]}}, {"VERTEX-030", "VERTEX-031", "VERTEX-032"}),
        (
            {
                "displayName": "j",
                "jobSpec": {"workerPoolSpecs": [POOL], "serviceAccount": SA, "network": NET},
                "encryptionSpec": {"kmsKeyName": KEY},
            },
            set(),
        ),
        (
            {
                "displayName": "j",
                "jobSpec": {"workerPoolSpecs": [POOL], "serviceAccount": SA, "pscInterfaceConfig": {}},
                "encryptionSpec": {"kmsKeyName": KEY},
            },
            {"VERTEX-032"},  # an empty PSC interface block names no network attachment
        ),
        (
            {
                "displayName": "p",
                "trainingTaskDefinition": "gs://google-cloud-aiplatform/schema/trainingjob/definition/custom_task_1.0.0.yaml",
                "trainingTaskInputs": {
                    "workerPoolSpecs": [POOL],
                    "serviceAccount": SA,
                    "network": NET,
                    "enableWebAccess": True,
                },
                "encryptionSpec": {"kmsKeyName": KEY},
            },
            {"VERTEX-033"},
        ),
        ({"displayName": "r", "resourcePools": [POOL]}, {"VERTEX-034", "VERTEX-035"}),
        ({"displayName": "r", "resourcePools": [POOL], "network": NET, "encryptionSpec": {"kmsKeyName": KEY}}, set()),
    ],
)
def test_rest_bodies(tmp_path: Path, body: dict[str, object], fired: set[str]) -> None:
    (tmp_path / "body.json").write_text(json.dumps(body, indent=2))
    result = scan(tmp_path)
    assert set(_rules(result)) == fired
    assert all(line is not None and line >= 1 for lines in _rules(result).values() for line in lines)


def test_describe_output_is_left_to_the_describe_format(tmp_path: Path) -> None:
    body = {"name": "projects/p/locations/us-central1/customJobs/123", "jobSpec": {"workerPoolSpecs": [POOL]}}
    (tmp_path / "job.json").write_text(json.dumps(body))
    assert "VERTEX-032" not in _rules(scan(tmp_path))


SDK = f'''from google.cloud import aiplatform

aiplatform.init(project="acme-ml", location="us-central1", encryption_spec_key_name="{KEY}")

job = aiplatform.CustomJob(
    display_name="train",
    worker_pool_specs=[{{"machine_spec": {{"machine_type": "n1-standard-8"}}, "replica_count": 1}}],
)
job.run(service_account="{SA}", enable_web_access=True)

aiplatform.CustomContainerTrainingJob(
    display_name="t2",
    container_uri="us-docker.pkg.dev/acme/train/trainer:1.4",
).run(network="{NET}", service_account="{SA}")
'''


def test_python_sdk_launch_code(tmp_path: Path) -> None:
    (tmp_path / "launch.py").write_text(SDK)
    result = scan(tmp_path)
    found = {
        (f.rule_id, f.resource.name, f.location.line) for f in result.findings if f.rule_id.startswith("VERTEX-03")
    }
    assert found == {
        ("VERTEX-032", "launch.py:5", 5),  # CustomJob: no network
        ("VERTEX-033", "launch.py:5", 9),  # web access at the run() line
    }


def test_sdk_values_from_the_command_line_are_unresolved(tmp_path: Path) -> None:
    code = "from google.cloud import aiplatform\n\ndef main(args, **kw):\n    aiplatform.CustomJob(display_name='x', worker_pool_specs=[]).run(network=args.network, **kw)\n"
    (tmp_path / "launch.py").write_text(code)
    result = scan(tmp_path)
    assert _rules(result) == {}
    reasons = [g.reason for ev in result.coverage.duties.values() for g in ev.gaps]
    assert any(r.startswith("VERTEX-031") for r in reasons)  # service account comes from **kw


def _parse(module: object, tmp_path: Path, name: str, text: str) -> None:
    p = tmp_path / name
    p.write_text(text, encoding="utf-8")
    entry = FileEntry(rel_path=name, size=p.stat().st_size, abs_path=p)
    with contextlib.suppress(ShareguardError):  # a per-file error is a clear outcome
        module.parse(entry, ScanContext(settings=Settings(), root=tmp_path))  # type: ignore[attr-defined]


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture]
)
@given(st.text(max_size=400))
def test_hostile_input_never_raises_anything_else(tmp_path: Path, text: str) -> None:
    _parse(vertex_jobs, tmp_path, "job.yaml", "workerPoolSpecs:\n" + text)
    _parse(vertex_jobs, tmp_path, "job.json", '{"workerPoolSpecs": ' + text)
    _parse(vertex_sdk, tmp_path, "launch.py", "from google.cloud import aiplatform\n" + text)
