"""Object stores: a bucket on a real S3-compatible server (moto, on 127.0.0.1) and a local folder holding
the same files give identical findings; unreadable buckets and objects get clear outcomes."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from tests.sensitive.planted import planted, planted_files
from tests.sensitive.servers import gcs_server, s3_server

from shareguard.core.options import OptionSet
from shareguard.core.result import ScanResult
from shareguard.scan import run_path_scan, run_url_scan
from shareguard.sensitive.options import SensitiveOptions

# gcsfs's experimental bucket-type probe speaks gRPC over TLS, which the local emulator does not: off before
# gcsfs is imported (the plain JSON API is what the emulator serves).
os.environ["GCSFS_EXPERIMENTAL_ZB_HNS_SUPPORT"] = "false"

OPTS = OptionSet().with_(SensitiveOptions(all_files=True))
FILES = planted_files(planted())


def key(result: ScanResult) -> list[tuple[str, str, str, str | None, str | None]]:
    return sorted(
        (f.rule_id, f.resource.path, str(f.properties["detector"]), f.location.model_dump_json(), f.evidence)
        for f in result.findings
    )


@pytest.fixture(scope="module")
def s3(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with s3_server() as endpoint, pytest.MonkeyPatch.context() as mp:
        mp.setenv("AWS_ENDPOINT_URL", endpoint)
        mp.setenv("AWS_ACCESS_KEY_ID", "testing")
        mp.setenv("AWS_SECRET_ACCESS_KEY", "testing")
        mp.setenv("AWS_DEFAULT_REGION", "us-east-1")
        import boto3

        client = boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1")
        client.create_bucket(Bucket="ml-data")
        for name, text in FILES.items():
            client.put_object(Bucket="ml-data", Key=f"raw/{name}", Body=text.encode())
        client.put_object(Bucket="ml-data", Key="raw/empty.txt", Body=b"")
        yield endpoint


def test_a_bucket_and_a_folder_give_identical_findings(s3: str, tmp_path: Path) -> None:
    for name, text in FILES.items():
        (tmp_path / name).write_text(text, encoding="utf-8")
    local = run_path_scan(tmp_path, command="data", capabilities=frozenset({"sensitive"}), options=OPTS)
    remote = run_url_scan("s3://ml-data/raw", options=OPTS)
    assert key(remote) == key(local) and len(remote.findings) >= 10
    assert not remote.issues
    assert remote.coverage.of("STORAGE-C-03") is not None
    one = run_url_scan("s3://ml-data/raw/notes.txt", options=OPTS)
    assert {f.resource.path for f in one.findings} == {"notes.txt"}


def test_a_missing_bucket_is_one_clear_error(s3: str) -> None:
    from shareguard.core.errors import InputError

    with pytest.raises(InputError) as err:
        run_url_scan("s3://no-such-bucket/x", options=OPTS)
    assert "no-such-bucket" in err.value.one_line()


def test_a_bucket_over_gcs_gives_the_same_findings(tmp_path: Path) -> None:
    with gcs_server() as endpoint, pytest.MonkeyPatch.context() as mp:
        mp.setenv("STORAGE_EMULATOR_HOST", endpoint)
        import gcsfs

        fs = gcsfs.GCSFileSystem(endpoint_url=endpoint, token="anon")
        fs.mkdir("ml-data-gcs")
        for name, text in FILES.items():
            fs.pipe(f"ml-data-gcs/raw/{name}", text.encode())
            (tmp_path / name).write_text(text, encoding="utf-8")
        local = run_path_scan(tmp_path, command="data", capabilities=frozenset({"sensitive"}), options=OPTS)
        remote = run_url_scan("gs://ml-data-gcs/raw", options=OPTS)
        assert key(remote) == key(local) and not remote.issues


def test_the_data_command_reads_a_bucket(s3: str, tmp_path: Path) -> None:
    import json

    from typer.testing import CliRunner

    from shareguard.cli.main import build_app

    out = tmp_path / "r.json"
    res = CliRunner().invoke(build_app(), ["data", "s3://ml-data/raw", "-f", "json", "-o", str(out), "-q"])
    assert res.exit_code == 0, res.stderr
    doc = json.loads(out.read_text(encoding="utf-8"))
    assert {f["resource"]["path"] for f in doc["findings"]} >= {"creds.env", "customers.csv", "app.py"}
    assert doc["target"] == "s3://ml-data/raw"


def test_beam_splits_a_large_bucket_object_into_ranges_and_gives_the_plain_runs_findings(
    s3: str, tmp_path: Path
) -> None:
    """A large object in a bucket is read by byte ranges (ranged GETs) on the Beam workers: same findings."""
    import json

    import boto3
    from typer.testing import CliRunner

    from shareguard.cli.main import build_app
    from shareguard.sensitive.split import MIN_PART, plan

    pytest.importorskip("apache_beam")
    p = planted()
    line = b"request served in 12 ms from cache node alpha beta gamma delta\n"
    body = bytearray(line * ((3 * MIN_PART) // len(line)))
    for n, edge in enumerate((MIN_PART, 2 * MIN_PART)):  # near the range edges of a 2-worker plan
        raw = f"\ncontact m{n}{p.email} key {p.github}\n".encode()
        body[edge - 30 : edge - 30 + len(raw)] = raw
    client = boto3.client("s3", endpoint_url=s3, region_name="us-east-1")
    client.put_object(Bucket="ml-data", Key="big/served.log", Body=bytes(body))
    docs = []
    for extra in ([], ["--runner", "direct", "--workers", "2"]):
        out = tmp_path / f"r{len(docs)}.json"
        env = {"SHAREGUARD_CACHE_DIR": str(tmp_path / "cache")}
        res = CliRunner(env=env).invoke(
            build_app(), ["data", "s3://ml-data/big", "-f", "json", "-o", str(out), "-q", *extra]
        )
        assert res.exit_code == 0, res.stderr
        docs.append(json.loads(out.read_text(encoding="utf-8")))
    plain, beam = (sorted((f["properties"]["detector"], json.dumps(f["location"]), f["evidence"]) for f in d["findings"]) for d in docs)  # fmt: skip
    assert beam == plain
    summary = docs[1]["metadata"]["sensitive_summary"]
    assert summary == docs[0]["metadata"]["sensitive_summary"]
    assert summary["served.log"] == {"email": 2, "github_token": 2}  # each once, across the edges
    parts = plan([("served.log", "-", len(body))], lambda *_: "text", workers=2, max_bytes=64 << 20)
    assert [q.start for q in parts] == [0, len(body) // 3, 2 * len(body) // 3]  # the ranges the values cross
