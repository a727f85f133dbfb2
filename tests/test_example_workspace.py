"""The bundled example workspace is valid in each file's real format (and never executed)."""

from __future__ import annotations

import csv
import json
import pickletools
import subprocess
from pathlib import Path

import hcl2
import pytest
import yaml
from packaging.requirements import Requirement

from shareguard.core.waivers import WAIVER_FILENAME, load_waivers
from shareguard.posture.parsers.dockerfile import parse_text

EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "ml-platform"


def _luhn(number: str) -> bool:
    total = 0
    for i, ch in enumerate(reversed(number)):
        d = int(ch) * (2 if i % 2 else 1)
        total += d - 9 if d > 9 else d
    return total % 10 == 0


def _iban_ok(iban: str) -> bool:
    moved = iban[4:] + iban[:4]
    return int("".join(str(int(c, 36)) for c in moved)) % 97 == 1


def test_the_files_the_issue_names_exist() -> None:
    for rel in (
        "README.md",
        "docker/train/Dockerfile",
        "docker/serve/Dockerfile",
        "k8s/train-pytorchjob.yaml",
        "k8s/inference.yaml",
        "dataflow/job.json",
        "dataflow/launch.sh",
        "terraform/main.tf",
        "iam/policy.json",
        "iam/gcp-policy.json",
        "data/customers.csv",
        "models/classifier.pkl",
        "pipelines/train.py",
        "requirements.txt",
        "logs/cloudtrail.json",
        WAIVER_FILENAME,
    ):
        assert (EXAMPLE / rel).is_file(), rel


@pytest.mark.parametrize("name", ["train", "serve"])
def test_dockerfiles_parse(name: str) -> None:
    text = (EXAMPLE / "docker" / name / "Dockerfile").read_text(encoding="utf-8")
    parsed = parse_text(text, f"docker/{name}/Dockerfile")
    instructions = [i.keyword for i in parsed.instructions]
    if name == "train":
        assert len(parsed.stages) == 1 and parsed.stages[0].base == "pytorch/pytorch:latest"
        assert "USER" not in instructions and "ADD" in instructions
        assert "AKIAIOSFODNN7EXAMPLE" in text  # AWS's documented example key, nothing real
    else:
        assert len(parsed.stages) == 2 and instructions[-3:] == ["USER", "EXPOSE", "ENTRYPOINT"]


def test_kubernetes_manifests_parse() -> None:
    job = list(yaml.safe_load_all((EXAMPLE / "k8s" / "train-pytorchjob.yaml").read_text(encoding="utf-8")))
    assert [d["kind"] for d in job] == ["PyTorchJob"]
    master = job[0]["spec"]["pytorchReplicaSpecs"]["Master"]["template"]["spec"]
    assert master["containers"][0]["securityContext"]["privileged"] is True
    assert "hostPath" in master["volumes"][0]
    serve = list(yaml.safe_load_all((EXAMPLE / "k8s" / "inference.yaml").read_text(encoding="utf-8")))
    assert [d["kind"] for d in serve] == ["Deployment", "Service", "Ingress"]
    assert serve[2]["spec"]["tls"][0]["secretName"]


def test_dataflow_job_is_a_jobs_describe_document() -> None:
    job = json.loads((EXAMPLE / "dataflow" / "job.json").read_text(encoding="utf-8"))
    env = job["environment"]
    assert job["type"] == "JOB_TYPE_STREAMING"
    assert "enable_stackdriver_agent_metrics" in env["experiments"]
    assert "kmsKeyName" not in env
    assert env["workerPools"][0]["ipConfiguration"] == "WORKER_IP_PUBLIC"
    assert env["serviceAccountEmail"].endswith("-compute@developer.gserviceaccount.com")
    assert job["jobMetadata"]["sdkVersion"]["version"] == "2.46.0"
    proc = subprocess.run(["bash", "-n", str(EXAMPLE / "dataflow" / "launch.sh")], capture_output=True)
    assert proc.returncode == 0


def test_terraform_parses() -> None:
    with (EXAMPLE / "terraform" / "main.tf").open(encoding="utf-8") as fh:
        doc = hcl2.load(fh)
    types = {t.strip('"') for block in doc["resource"] for t in block}
    assert {
        "google_dataflow_flex_template_job",
        "google_storage_bucket_iam_member",
        "google_workbench_instance",
        "aws_sagemaker_notebook_instance",
        "aws_s3_bucket",
        "aws_cloudtrail",
    } <= types


def test_iam_policies_parse() -> None:
    aws = json.loads((EXAMPLE / "iam" / "policy.json").read_text(encoding="utf-8"))
    assert aws["Statement"][0]["Action"] == "*"
    gcp = json.loads((EXAMPLE / "iam" / "gcp-policy.json").read_text(encoding="utf-8"))
    assert {"role": "roles/owner", "members": ["user:jane.doe@example.com"]} in gcp["bindings"]
    bucket = json.loads((EXAMPLE / "iam" / "gcs-bucket-policy.json").read_text(encoding="utf-8"))
    assert any("allUsers" in b["members"] for b in bucket["bindings"])


def test_personal_data_is_synthetic_but_checksum_valid() -> None:
    with (EXAMPLE / "data" / "customers.csv").open(encoding="utf-8", newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert len(rows) >= 5
    for row in rows:
        assert _luhn(row["card_number"]) and _iban_ok(row["iban"])
        assert row["email"].rsplit("@", 1)[1] in {"example.com", "example.org", "example.net"}


def test_model_file_references_os_system_and_is_never_loaded() -> None:
    data = (EXAMPLE / "models" / "classifier.pkl").read_bytes()
    ops = [(op.name, arg) for op, arg, _ in pickletools.genops(data)]  # disassembles; never unpickles
    assert ("GLOBAL", "os system") in ops
    assert [name for name, _ in ops][-2:] == ["BINPUT", "STOP"] and ("REDUCE", None) in ops


def test_requirements_and_cloudtrail() -> None:
    reqs = {}
    for line in (EXAMPLE / "requirements.txt").read_text(encoding="utf-8").splitlines():
        if line.strip() and not line.startswith("#"):
            req = Requirement(line)
            reqs[req.name.lower()] = str(req.specifier)
    assert reqs["torch"] == "==2.2.0" and reqs["transformers"] == "==4.30.0"
    trail = json.loads((EXAMPLE / "logs" / "cloudtrail.json").read_text(encoding="utf-8"))
    names = [r["eventName"] for r in trail["Records"]]
    assert {"ConsoleLogin", "StopLogging", "PutBucketPolicy"} <= set(names)
    for r in trail["Records"]:
        assert {"eventVersion", "eventTime", "eventSource", "eventName", "awsRegion", "userIdentity"} <= set(r)


def test_waiver_file_loads() -> None:
    waivers = load_waivers(EXAMPLE / WAIVER_FILENAME)
    assert len(waivers) == 2 and all(w.reason for w in waivers)
