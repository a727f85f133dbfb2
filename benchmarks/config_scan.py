"""Benchmark `shareguard config` over a generated corpus of mixed configuration files.

    python benchmarks/config_scan.py [--files 2400] [--keep DIR]

Generates Dockerfiles (multi-stage, long RUN lines, heredocs), Kubernetes manifests (Deployments,
Kubeflow jobs, multi-document), Terraform HCL, CloudFormation YAML/JSON, IAM policy JSON and
describe-API JSON, every file different (seeded random names, versions, flags), then runs
`shareguard config DIR -f json -q` in one process pinned to one core (when `taskset` exists)
and prints files/s. The target is >= 1,000 files/s on one core.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

PKGS = ["curl", "git", "wget", "build-essential", "libgl1", "ca-certificates", "openssh-client", "vim", "jq", "zip"]
PIP = ["torch", "transformers", "accelerate", "datasets", "numpy", "pandas", "scikit-learn", "vllm", "triton"]
BASES = [
    "nvidia/cuda:12.{m}.1-cudnn-devel-ubuntu22.04",
    "python:3.1{m}-slim",
    "nvcr.io/nvidia/pytorch:24.0{m}-py3",
    "763104351884.dkr.ecr.us-east-1.amazonaws.com/pytorch-training:2.{m}.0-gpu-py311",
    "someuser/ml-base:{m}",
    "gcr.io/distroless/python3-debian12:nonroot",
]


def dockerfile(r: random.Random, i: int) -> str:
    base = r.choice(BASES).format(m=r.randint(0, 9))
    pkgs = " ".join(r.sample(PKGS, 5))
    pips = " ".join(
        f"{p}=={r.randint(1, 4)}.{r.randint(0, 40)}.{r.randint(0, 9)}" if r.random() < 0.5 else p
        for p in r.sample(PIP, 4)
    )
    flags = r.choice(["", "--trusted-host pypi.org ", "--no-cache-dir ", "-i http://pypi.internal/simple "])
    lines = [
        f"# image {i}",
        f"ARG VERSION=1.{i}",
        f"FROM {base} AS build{i}",
        f"ENV APP_HOME=/opt/app{i} PIP_DEFAULT_TIMEOUT={r.randint(10, 99)}",
        "RUN apt-get update \\",
        f" && apt-get install -y --no-install-recommends {pkgs} \\",
        " && rm -rf /var/lib/apt/lists/*",
        f"RUN pip install {flags}{pips}",
        "RUN <<EOF",
        "set -eux",
        f"curl -fsSL{'k' if r.random() < 0.2 else ''} https://example.com/tool-{i}.tgz -o /tmp/t.tgz",
        "tar -C /opt -xzf /tmp/t.tgz",
        "EOF",
        f"COPY {r.choice(['app', 'id_rsa', '.env', 'src'])} $APP_HOME/",
        f"FROM {r.choice(['python:3.11-slim', 'gcr.io/distroless/python3-debian12'])}",
        f"COPY --from=build{i} /opt /opt",
        r.choice(["USER 1000", "USER root", ""]),
        f"EXPOSE {r.choice([8080, 22, 8000])}",
        f'CMD ["python", "-m", "server{i}"]',
    ]
    return "\n".join(lines) + "\n"


def k8s(r: random.Random, i: int) -> str:
    docs = []
    for j in range(r.randint(1, 3)):
        kind = r.choice(["Deployment", "StatefulSet", "PyTorchJob", "Job"])
        image = f"us-docker.pkg.dev/acme/ml/svc{i}-{j}:{r.choice(['latest', '1.2.3', '2.0'])}"
        pod = f"""securityContext:
  runAsNonRoot: {r.choice(["true", "false"])}
containers:
  - name: c{j}
    image: {image}
    env:
      - name: MODEL
        value: m{i}
      - name: API_TOKEN
        value: {r.choice(["tok" + str(i) * 3, "$(TOKEN)"])}
    securityContext:
      privileged: {r.choice(["true", "false", "false"])}
      allowPrivilegeEscalation: false
    resources:
      limits: {{memory: {r.randint(1, 64)}Gi, cpu: "{r.randint(1, 8)}"}}
"""
        if kind == "PyTorchJob":
            api, body = (
                "kubeflow.org/v1",
                "spec:\n  pytorchReplicaSpecs:\n    Worker:\n      template:\n        spec:\n",
            )
            body += textwrap.indent(pod, " " * 10)
        else:
            api = "batch/v1" if kind == "Job" else "apps/v1"
            body = f"spec:\n  replicas: {r.randint(1, 5)}\n  template:\n    spec:\n" + textwrap.indent(pod, " " * 6)
        docs.append(f"apiVersion: {api}\nkind: {kind}\nmetadata:\n  name: w{i}-{j}\n  namespace: ns{i % 7}\n{body}")
    return "---\n".join(docs)


def terraform(r: random.Random, i: int) -> str:
    return f"""variable "region_{i}" {{
  default = "europe-west{r.randint(1, 9)}"
}}

resource "google_dataflow_flex_template_job" "job_{i}" {{
  provider                = google-beta
  name                    = "features-{i}"
  container_spec_gcs_path = "gs://acme-templates/features-{i}.json"
  region                  = var.region_{i}
  parameters = {{
    experiments = "{r.choice(["enable_stackdriver_agent_metrics", "use_runner_v2"])}"
  }}
  {r.choice(['kms_key_name = "projects/p/locations/l/keyRings/r/cryptoKeys/k"', ""])}
}}

resource "aws_s3_bucket" "data_{i}" {{
  bucket = "acme-data-{i}"
  tags = {{
    owner = "team-{i % 13}"
  }}
}}
"""


def cloudformation(r: random.Random, i: int) -> tuple[str, str]:
    if r.random() < 0.5:
        return (
            "yaml",
            f"""AWSTemplateFormatVersion: "2010-09-09"
Resources:
  Notebook{i}:
    Type: AWS::SageMaker::NotebookInstance
    Properties:
      InstanceType: ml.t3.medium
      RoleArn: !GetAtt Role{i}.Arn
      RootAccess: {r.choice(["Enabled", "Disabled"])}
      DirectInternetAccess: {r.choice(["Enabled", "Disabled"])}
      NotebookInstanceName: !Sub "nb-{i}-${{AWS::Region}}"
""",
        )
    doc = {
        "AWSTemplateFormatVersion": "2010-09-09",
        "Resources": {
            f"Bucket{i}": {
                "Type": "AWS::S3::Bucket",
                "Properties": {"BucketName": f"acme-{i}", "Tags": [{"Key": "team", "Value": f"t{i}"}]},
            }
        },
    }
    return "json", json.dumps(doc, indent=2)


def iam(r: random.Random, i: int) -> str:
    doc = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": f"S{i}",
                "Effect": "Allow",
                "Action": r.choice(["*", "s3:GetObject", ["iam:PassRole", "sagemaker:*"]]),
                "Resource": r.choice(["*", f"arn:aws:s3:::acme-{i}/*"]),
            }
        ],
    }
    return json.dumps(doc, indent=2)


def generate(
    root: Path, n: int, seed: int = 7, kinds: tuple[str, ...] = ("dockerfile", "k8s", "terraform", "cfn", "iam")
) -> dict[str, int]:
    r = random.Random(seed)
    counts: dict[str, int] = {}
    for i in range(n):
        kind = kinds[i % len(kinds)]
        d = root / kind / f"d{i // 100}"
        d.mkdir(parents=True, exist_ok=True)
        if kind == "dockerfile":
            (d / f"svc{i}.Dockerfile").write_text(dockerfile(r, i))
        elif kind == "k8s":
            (d / f"w{i}.yaml").write_text(k8s(r, i))
        elif kind == "terraform":
            (d / f"m{i}.tf").write_text(terraform(r, i))
        elif kind == "cfn":
            ext, text = cloudformation(r, i)
            (d / f"stack{i}.{ext}").write_text(text)
        else:
            (d / f"policy{i}.json").write_text(iam(r, i))
        counts[kind] = counts.get(kind, 0) + 1
    return counts


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--files", type=int, default=2400)
    ap.add_argument("--keep", type=Path, default=None, help="generate into this directory and keep it")
    ap.add_argument("--repeat", type=int, default=5, help="timed runs after one warm-up (best and median shown)")
    ap.add_argument("--kinds", default="dockerfile,k8s,terraform,cfn,iam", help="comma-separated subset of formats")
    args = ap.parse_args()
    root = args.keep or Path(tempfile.mkdtemp(prefix="sg-config-bench-"))
    try:
        counts = generate(root, args.files, kinds=tuple(args.kinds.split(",")))
        cmd = ["shareguard", "config", str(root), "-f", "json", "-q", "-o", os.devnull]
        if shutil.which("taskset"):
            cmd = ["taskset", "-c", "0", *cmd]
        # As an installed package runs: bytecode cached (the sandbox sets PYTHONDONTWRITEBYTECODE, which
        # would recompile every module on every run); one warm-up run, then best and median of --repeat.
        env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
        subprocess.run(cmd, capture_output=True, text=True, check=False, env=env)
        walls: list[float] = []
        cpus: list[float] = []
        for _ in range(args.repeat):
            before = resource.getrusage(resource.RUSAGE_CHILDREN)
            started = time.perf_counter()
            proc = subprocess.run(cmd, capture_output=True, text=True, check=False, env=env)
            walls.append(time.perf_counter() - started)
            after = resource.getrusage(resource.RUSAGE_CHILDREN)
            cpus.append((after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime))
        # Startup (imports, registry, catalog) and report rendering are included on purpose: a CI job pays them.
        # CPU time is reported too: on a loaded machine wall time overstates the cost.
        print(f"corpus: {args.files} files {counts}")
        print(f"exit code {proc.returncode}; stderr lines: {len(proc.stderr.splitlines())}")
        wall, cpu = min(walls), min(cpus)
        print(
            f"best of {args.repeat}: wall {wall:.2f}s -> {args.files / wall:,.0f} files/s; "
            f"cpu {cpu:.2f}s -> {args.files / cpu:,.0f} files/s "
            f"(median wall {statistics.median(walls):.2f}s -> {args.files / statistics.median(walls):,.0f} files/s)"
        )
        return 0
    finally:
        if args.keep is None:
            shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
