"""Throughput of the cloud posture parsers and checks over a generated corpus (one core).

    python benchmarks/posture_cloud.py [--files 2400]

The corpus mixes Terraform, plan JSON, CloudFormation, describe JSON, IAM policies and Beam launch scripts
in the proportions below, each file a variation of a realistic template (names, values and flags differ).
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

from shareguard.core.registry import load_registries
from shareguard.scan import run_path_scan

TF = """\
resource "google_dataflow_flex_template_job" "job_{i}" {{
  provider                = google-beta
  name                    = "job-{i}"
  container_spec_gcs_path = "gs://bucket-{i}/templates/t.json"
  parameters = {{
    inputSubscription = "projects/p/subscriptions/s{i}"
  }}
  additional_experiments = ["{exp}"]
  labels = {{
    team = "team-{i}"
  }}
}}

resource "aws_s3_bucket" "b{i}" {{
  bucket = "bucket-{i}"
  tags = {{
    Owner = "team-{i}"
  }}
}}

resource "aws_kms_key" "k{i}" {{
  description         = "key {i}"
  enable_key_rotation = {rot}
}}
"""

CFN = """\
AWSTemplateFormatVersion: "2010-09-09"
Resources:
  Notebook{i}:
    Type: AWS::SageMaker::NotebookInstance
    Properties:
      InstanceType: ml.t3.medium
      RoleArn: !GetAtt Role.Arn
      RootAccess: {root}
      Tags:
        - Key: Team
          Value: team-{i}
  Bucket{i}:
    Type: AWS::S3::Bucket
    Properties:
      BucketName: !Sub "${{AWS::StackName}}-{i}"
"""


def _describe(i: int) -> str:
    return json.dumps(
        {
            "id": f"2026-11-01_00_00_00-{i}",
            "projectId": "p",
            "name": f"stream-{i}",
            "type": "JOB_TYPE_STREAMING",
            "currentState": "JOB_STATE_RUNNING",
            "createTime": "2026-11-20T00:00:00Z",
            "environment": {
                "experiments": ["use_runner_v2"] + (["enable_stackdriver_agent_metrics"] if i % 3 == 0 else []),
                "serviceAccountEmail": f"w{i}@p.iam.gserviceaccount.com",
                "workerPools": [{"kind": "harness", "ipConfiguration": "WORKER_IP_PRIVATE"}],
            },
            "jobMetadata": {"sdkVersion": {"version": "2.71.0", "sdkSupportStatus": "SUPPORTED"}},
        },
        indent=2,
    )


def _policy(i: int) -> str:
    return json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {"Effect": "Allow", "Action": ["s3:GetObject"], "Resource": [f"arn:aws:s3:::b{i}/*"]},
                {"Effect": "Allow", "Action": "s3:*" if i % 4 == 0 else "s3:ListBucket", "Resource": "*"},
            ],
        },
        indent=2,
    )


BEAM = """\
#!/bin/sh
python -m pipeline_{i} \\
  --runner=DataflowRunner \\
  --project=p --region=us-central1 \\
  --experiments={exp} \\
  --dataflow_kms_key=projects/p/locations/l/keyRings/r/cryptoKeys/k{i} \\
  --no_use_public_ips \\
  --service_account_email=w{i}@p.iam.gserviceaccount.com
"""


def generate(root: Path, n: int) -> int:
    kinds = ("tf", "tf", "yaml", "json", "policy", "sh")
    for i in range(n):
        kind = kinds[i % len(kinds)]
        d = root / f"dir{i // 100}"
        d.mkdir(exist_ok=True)
        exp = "enable_stackdriver_agent_metrics" if i % 5 == 0 else "use_runner_v2"
        if kind == "tf":
            (d / f"m{i}.tf").write_text(TF.format(i=i, exp=exp, rot="true" if i % 2 else "false"))
        elif kind == "yaml":
            (d / f"stack{i}.yaml").write_text(CFN.format(i=i, root="Disabled" if i % 2 else "Enabled"))
        elif kind == "json":
            (d / f"job{i}.json").write_text(_describe(i))
        elif kind == "policy":
            (d / f"policy{i}.json").write_text(_policy(i))
        else:
            (d / f"run{i}.sh").write_text(BEAM.format(i=i, exp=exp))
    return n


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--files", type=int, default=2400)
    args = ap.parse_args()
    regs = load_registries()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        n = generate(root, args.files)
        run_path_scan(root / "dir0", command="config", capabilities=frozenset({"posture"}), registries=regs)  # warm-up
        t0 = time.perf_counter()
        result = run_path_scan(root, command="config", capabilities=frozenset({"posture"}), registries=regs)
        dt = time.perf_counter() - t0
    print(f"{n} files in {dt:.2f}s: {n / dt:.0f} files/s, {len(result.findings)} findings, {len(result.issues)} issues")


if __name__ == "__main__":
    main()
