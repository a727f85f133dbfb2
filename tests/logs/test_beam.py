"""The Beam pipeline (DirectRunner) gives the same alerts and incidents as the plain run."""

from __future__ import annotations

import gzip
import json
import shutil
from pathlib import Path

import pytest
from tests.logs.helpers import cloudtrail, gcp, k8s

from shareguard.core.settings import Settings
from shareguard.logs.run import LogOptions, LogRun, run_logs

EXAMPLE_LOG = Path(__file__).resolve().parents[2] / "examples" / "ml-platform" / "logs" / "cloudtrail.json"


def _summary(run: LogRun) -> tuple[object, ...]:
    incidents = sorted(
        (
            i.actor,
            i.severity.value,
            tuple((a.rule.id, a.event.origin, a.event.position, a.count, len(a.related)) for a in i.alerts),
        )
        for i in run.incidents
    )
    return (
        sorted((f.rule_id, f.resource.path, f.location.record) for f in run.result.findings),
        incidents,
        dict(run.detection.events),
        sorted((i.origin, i.position, i.message) for i in run.detection.issues),
    )


def test_direct_runner_matches_the_plain_run(tmp_path: Path) -> None:
    pytest.importorskip("apache_beam")
    logs = tmp_path / "logs"
    logs.mkdir()
    shutil.copy(EXAMPLE_LOG, logs / "a.json")
    # 120 reads by one principal in 10 minutes (the exfiltration correlation), spread over two files
    reads = [
        cloudtrail(
            "GetObject",
            "s3.amazonaws.com",
            actor="arn:aws:iam::1:user/bulk",
            time=f"2025-03-04T10:{i // 20:02d}:{i % 60:02d}Z",
        )
        for i in range(120)
    ]
    (logs / "b.jsonl.gz").write_bytes(gzip.compress("".join(json.dumps(e) + "\n" for e in reads[:70]).encode()))
    (logs / "c.jsonl").write_text("".join(json.dumps(e) + "\n" for e in reads[70:]) + "{broken\n")
    (logs / "d.jsonl").write_text(
        json.dumps(gcp("google.iam.admin.v1.CreateServiceAccountKey", "iam.googleapis.com"))
        + "\n"
        + json.dumps(k8s("list", "secrets"))
        + "\n"
    )
    settings = Settings(cache_dir=tmp_path / "cache")
    plain = run_logs([str(logs)], LogOptions(), settings)
    from shareguard.logs.beam import run_beam

    beam = run_beam([str(logs)], LogOptions(), "DirectRunner", settings)
    assert _summary(beam) == _summary(plain)
    rules = {f.rule_id for f in plain.result.findings}
    assert {"LOGS-AWS-001", "LOGS-AWS-020", "LOGS-GCP-005", "LOGS-K8S-003"} <= rules
    assert beam.result.metadata["runner"] == "DirectRunner"
