"""s3:// inputs through fsspec against a real S3-compatible server (moto's, started on 127.0.0.1)."""

from __future__ import annotations

import gzip
import json
from collections.abc import Iterator

import pytest
from tests.logs.helpers import cloudtrail
from tests.logs.receivers import free_port

from shareguard.logs.run import LogOptions, run_logs


@pytest.fixture(scope="module")
def s3_endpoint() -> Iterator[str]:
    pytest.importorskip("s3fs")
    from moto.server import ThreadedMotoServer

    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.stop()


def test_cloudtrail_prefix_in_s3_is_listed_and_read(s3_endpoint: str, monkeypatch: pytest.MonkeyPatch) -> None:
    import boto3

    for k, v in {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
    }.items():
        monkeypatch.setenv(k, v)
    monkeypatch.setenv("SHAREGUARD_S3_ENDPOINT", s3_endpoint)
    s3 = boto3.client("s3", endpoint_url=s3_endpoint)
    s3.create_bucket(Bucket="trail")
    prefix = "AWSLogs/123456789012/CloudTrail/eu-west-1/2025/03/04/"
    for i, name in enumerate(["StopLogging", "DescribeInstances"]):
        body = gzip.compress(
            json.dumps(
                {"Records": [cloudtrail(name, "cloudtrail.amazonaws.com" if i == 0 else "ec2.amazonaws.com")]}
            ).encode()
        )
        s3.put_object(
            Bucket="trail", Key=f"{prefix}123456789012_CloudTrail_eu-west-1_20250304T09{i}0Z_x.json.gz", Body=body
        )
    s3.put_object(Bucket="trail", Key=f"{prefix}README.txt", Body=b"not a log")
    run = run_logs(["s3://trail/AWSLogs/"], LogOptions(sigmahq=False))  # the built-in pack suffices here
    assert run.detection.inputs == [
        f"s3://trail/{prefix}123456789012_CloudTrail_eu-west-1_20250304T0900Z_x.json.gz",
        f"s3://trail/{prefix}123456789012_CloudTrail_eu-west-1_20250304T0910Z_x.json.gz",
    ]
    assert [f.rule_id for f in run.result.findings] == ["LOGS-AWS-001"]
    assert run.result.findings[0].resource.path.startswith("s3://trail/")
    assert not run.result.has_errors()
