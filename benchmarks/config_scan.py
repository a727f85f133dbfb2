"""Benchmark `shareguard config` over a generated corpus of mixed configuration files.

    python benchmarks/config_scan.py [--files 2400] [--keep DIR] [--checkov | --install-checkov]

Generates Dockerfiles (multi-stage, long RUN lines, heredocs), Kubernetes manifests (Deployments,
Kubeflow jobs, multi-document), Terraform HCL, CloudFormation YAML/JSON, IAM policy JSON and
describe-API JSON, every file different (seeded random names, versions, flags), then runs
`shareguard config DIR -f json -q` in one process pinned to one core (when `taskset` exists)
and prints files/s and peak RSS. The target is >= 1,000 files/s on one core.

With `--checkov` (or `--install-checkov`, which first installs the newest Checkov with pip into its own
virtual environment under shareguard's cache, `<cache>/bench/checkov`; Checkov is never a shareguard
dependency), Checkov runs on the same corpus, interleaved with shareguard, pinned to the same core and in
one process (`CHECKOV_PARALLELIZATION_TYPE=none`, offline: `--skip-download`), and the script prints both
tools' files/s (CPU and wall), peak RSS and the ratios. The goal (issue #16) is >= 10x Checkov's files/s
with a lower peak RSS.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
from dataclasses import dataclass
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


@dataclass(frozen=True)
class Run:
    wall: float
    cpu: float
    """user + sys seconds of the process (and of any children it waited for)."""
    rss_mb: float
    """Peak resident set size (the largest of the process and the children it waited for)."""
    returncode: int
    stderr: str


def measured(cmd: list[str], env: dict[str, str]) -> Run:
    """Run `cmd` and take its own resource usage from `wait4` (per run, unlike RUSAGE_CHILDREN's
    peak RSS, which only ever grows over all children)."""
    with tempfile.TemporaryFile() as err:
        started = time.perf_counter()
        proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=err, env=env)
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - started
        proc.returncode = os.waitstatus_to_exitcode(status)
        err.seek(0)
        stderr = err.read().decode("utf-8", errors="replace")
    # ru_maxrss is in KiB on Linux.
    return Run(wall, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024, proc.returncode, stderr)


def cache_dir() -> Path:
    """shareguard's cache directory (as `core/settings.py` finds it), without importing shareguard."""
    if os.environ.get("SHAREGUARD_CACHE_DIR"):
        return Path(os.environ["SHAREGUARD_CACHE_DIR"])
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "shareguard"


def checkov_command(install: bool) -> list[str] | None:
    """The `checkov` of the benchmark's own virtual environment (created and filled when `install`)."""
    venv = cache_dir() / "bench" / "checkov"
    exe = venv / "bin" / "checkov"
    if install:
        if not (venv / "bin" / "python").exists():
            subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
        subprocess.run([str(venv / "bin" / "python"), "-m", "pip", "install", "-q", "-U", "checkov"], check=True)
    if exe.exists():
        return [str(exe)]
    found = shutil.which("checkov")
    return [found] if found else None


def checkov_version(cmd: list[str]) -> str:
    proc = subprocess.run([*cmd, "--version"], capture_output=True, text=True, check=False)
    return proc.stdout.strip() or "?"


def summarise(name: str, runs: list[Run], files: int) -> Run:
    best = min(runs, key=lambda r: r.cpu)
    walls = [r.wall for r in runs]
    print(
        f"{name}: best of {len(runs)}: cpu {best.cpu:.2f}s -> {files / best.cpu:,.0f} files/s; "
        f"wall {min(walls):.2f}s -> {files / min(walls):,.0f} files/s "
        f"(median wall {statistics.median(walls):.2f}s -> {files / statistics.median(walls):,.0f} files/s); "
        f"peak RSS {max(r.rss_mb for r in runs):,.0f} MB; exit code {best.returncode}; "
        f"stderr lines {len(best.stderr.splitlines())}"
    )
    return Run(min(walls), best.cpu, max(r.rss_mb for r in runs), best.returncode, best.stderr)


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--files", type=int, default=2400)
    ap.add_argument("--keep", type=Path, default=None, help="generate into this directory and keep it")
    ap.add_argument("--repeat", type=int, default=5, help="timed runs after one warm-up (best and median shown)")
    ap.add_argument("--kinds", default="dockerfile,k8s,terraform,cfn,iam", help="comma-separated subset of formats")
    ap.add_argument("--checkov", action="store_true", help="run Checkov side by side (from --install-checkov's venv)")
    ap.add_argument(
        "--install-checkov", action="store_true", help="pip-install the newest Checkov into <cache>/bench/checkov first"
    )
    ap.add_argument("--checkov-repeat", type=int, default=1, help="Checkov runs (each takes a minute or more)")
    args = ap.parse_args()
    checkov: list[str] | None = None
    if args.checkov or args.install_checkov:
        checkov = checkov_command(args.install_checkov)
        if checkov is None:
            print("checkov not found: run with --install-checkov", file=sys.stderr)
            return 2
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
        runs = [measured(cmd, env) for _ in range(args.repeat)]
        failed = [r for r in runs if r.returncode not in (0, 1)]  # 1: findings (--exit-code); else it did not run
        if failed:
            print(f"shareguard did not run (exit code {failed[0].returncode}): {failed[0].stderr.strip()[:300]}")
            return 2
        # Startup (imports, registry, catalog) and report rendering are included on purpose: a CI job pays them.
        # CPU time is reported too: on a loaded machine wall time overstates the cost.
        print(f"corpus: {args.files} files {counts}")
        sg = summarise("shareguard", runs, args.files)
        if checkov is not None:
            ck_cmd = [*checkov, "-d", str(root), "-o", "json", "--quiet", "--skip-download"]
            if shutil.which("taskset"):
                ck_cmd = ["taskset", "-c", "0", *ck_cmd]
            # One process on one core, as shareguard runs; offline (no platform download or upload).
            ck_env = {**env, "CHECKOV_PARALLELIZATION_TYPE": "none", "BC_SKIP_MAPPING": "TRUE"}
            print(f"checkov {checkov_version(checkov)}: {' '.join(ck_cmd)}")
            ck_runs: list[Run] = []
            for _ in range(args.checkov_repeat):  # interleaved with shareguard runs: the same machine state
                ck_runs.append(measured(ck_cmd, ck_env))
                runs.append(measured(cmd, env))
            ck = summarise("checkov", ck_runs, args.files)
            sg = summarise("shareguard (all runs)", runs, args.files)
            print(
                f"ratio (shareguard / checkov files/s): cpu {ck.cpu / sg.cpu:.1f}x, wall {ck.wall / sg.wall:.1f}x; "
                f"peak RSS {sg.rss_mb:,.0f} MB vs {ck.rss_mb:,.0f} MB ({ck.rss_mb / sg.rss_mb:.1f}x lower)"
            )
        return 0
    finally:
        if args.keep is None:
            shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
