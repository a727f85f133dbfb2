"""`shareguard data --runner dataflow|flink|spark`: the Beam options each builds, one-line errors with exit 2
(something to give) or 3 (a service that does not answer) instead of tracebacks or waits, and a real job
submitted through the Flink and Spark runners to a job server speaking Beam's job API (Beam's own Python job
service, started by the test on 127.0.0.1: no Flink or Spark job-server jar can be fetched here)."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import pytest
from tests.sensitive.planted import planted, planted_files
from tests.sensitive.reports import finding_keys
from tests.sensitive.servers import free_port, serve
from typer.testing import CliRunner

from shareguard.cli.main import build_app
from shareguard.sensitive.beam_runners import flag_values, pipeline_flags

pytest.importorskip("apache_beam")
from apache_beam.options.pipeline_options import (
    DirectOptions,
    FlinkRunnerOptions,
    GoogleCloudOptions,
    PipelineOptions,
    PortableOptions,
    SetupOptions,
    SparkRunnerOptions,
    StandardOptions,
)


def _options(flags: list[str]) -> PipelineOptions:
    return PipelineOptions(flags)


def test_each_runner_builds_its_beam_options() -> None:
    direct = _options(pipeline_flags("direct", 3, ["temp_location=/t"]))
    assert direct.view_as(StandardOptions).runner == "DirectRunner"
    assert direct.view_as(DirectOptions).direct_num_workers == 3
    assert direct.view_as(DirectOptions).direct_running_mode == "multi_processing"
    df = _options(
        pipeline_flags(
            "dataflow", 3, ["project=p", "region=europe-west1", "temp_location=gs://b/t", "requirements_file=r.txt"]
        )
    )
    assert df.view_as(StandardOptions).runner == "DataflowRunner"
    gcp = df.view_as(GoogleCloudOptions)
    assert (gcp.project, gcp.region, gcp.temp_location) == ("p", "europe-west1", "gs://b/t")
    assert df.view_as(SetupOptions).requirements_file == "r.txt"
    flink = _options(pipeline_flags("flink", 3, ["flink_master=host:8081", "flink_submit_uber_jar=true"]))
    assert flink.view_as(StandardOptions).runner == "FlinkRunner"
    assert flink.view_as(FlinkRunnerOptions).flink_master == "host:8081"
    assert flink.view_as(FlinkRunnerOptions).flink_submit_uber_jar is True
    spark = _options(pipeline_flags("spark", 3, ["spark_master_url=spark://h:7077", "--job-endpoint=h:8099"]))
    assert spark.view_as(StandardOptions).runner == "SparkRunner"
    assert spark.view_as(SparkRunnerOptions).spark_master_url == "spark://h:7077"
    assert spark.view_as(PortableOptions).job_endpoint == "h:8099"
    for runner in ("dataflow", "flink", "spark"):  # the direct runner's worker options only on the direct runner
        assert not any(f.startswith("--direct_") for f in pipeline_flags(runner, 3, []))
    assert flag_values(["--a=1", "--b", "--a=2"]) == {"a": "2", "b": "true"}


def _run(tmp_path: Path, runner: str, *options: str, env: dict[str, str] | None = None) -> tuple[int, str]:
    ws = tmp_path / "ws"
    ws.mkdir(exist_ok=True)
    (ws / "a.txt").write_text("contact anna.smith@gmail.com\n", encoding="utf-8")
    args = ["data", str(ws), "-q", "--runner", runner]
    for opt in options:
        args += ["--beam-option", opt]
    res = CliRunner(env={"SHAREGUARD_CACHE_DIR": str(tmp_path / "cache"), **(env or {})}).invoke(build_app(), args)
    assert res.exception is None or isinstance(res.exception, SystemExit), res.exception
    lines = [line for line in res.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and "Traceback" not in res.stderr, res.stderr  # one line, no traceback
    return res.exit_code, lines[0]


def _closed_port() -> int:
    return free_port()  # bound and released: nothing listens there


NO_GOOGLE_CREDENTIALS = {
    "GOOGLE_APPLICATION_CREDENTIALS": "",
    "CLOUDSDK_CONFIG": "/nonexistent/gcloud",
    "NO_GCE_CHECK": "True",  # no metadata-server probe (google-auth's switch for machines off Google Cloud)
    "GCE_METADATA_HOST": "127.0.0.1:1",
    "GCE_METADATA_IP": "127.0.0.1:1",
}
DATAFLOW = ["project=p", "region=europe-west1", "temp_location=gs://bucket/tmp", "requirements_file=req.txt"]


def test_dataflow_names_the_missing_options(tmp_path: Path) -> None:
    code, line = _run(tmp_path, "dataflow")
    assert code == 2
    assert all(k in line for k in ("project=", "region=", "temp_location=", "sdk_container_image="))
    code, line = _run(tmp_path, "dataflow", "project=p", "region=r", "temp_location=/local/tmp", "setup_file=s.py")
    assert code == 2 and "gs://" in line


def test_dataflow_without_credentials_says_so(tmp_path: Path) -> None:
    code, line = _run(tmp_path, "dataflow", *DATAFLOW, env={**NO_GOOGLE_CREDENTIALS, "HOME": str(tmp_path)})
    assert code == 2 and "no Google Cloud credentials" in line and "GOOGLE_APPLICATION_CREDENTIALS" in line


def test_dataflow_with_credentials_needs_the_gcp_extra_and_the_service(tmp_path: Path) -> None:
    creds = tmp_path / "adc.json"  # application default credentials of a user: loaded without any network call
    creds.write_text(
        json.dumps({"type": "authorized_user", "client_id": "c", "client_secret": "s", "refresh_token": "r"}),
        encoding="utf-8",
    )
    env = {**NO_GOOGLE_CREDENTIALS, "GOOGLE_APPLICATION_CREDENTIALS": str(creds)}
    port = _closed_port()
    code, line = _run(tmp_path, "dataflow", *DATAFLOW, f"dataflow_endpoint=http://127.0.0.1:{port}", env=env)
    if importlib.util.find_spec("apitools") is None:  # Beam installed without its GCP extra
        assert code == 2 and "apache-beam[gcp]" in line
    else:
        assert code == 3 and f"Dataflow API at 127.0.0.1:{port} is unreachable" in line


@pytest.mark.parametrize("runner", ["flink", "spark"])
def test_portable_runners_name_what_is_missing(tmp_path: Path, runner: str) -> None:
    port = _closed_port()
    code, line = _run(tmp_path, runner, f"job_endpoint=127.0.0.1:{port}")
    assert code == 3 and f"job server at 127.0.0.1:{port} is unreachable" in line
    code, line = _run(tmp_path, runner, "job_server_java_launcher=/nonexistent/java")
    assert code == 2 and "needs Java" in line and "job_endpoint=" in line
    code, line = _run(tmp_path, runner, f"{runner}_job_server_jar={tmp_path / 'missing.jar'}")
    assert code == 2 and "missing.jar does not exist" in line
    url = f"http://127.0.0.1:{port}/beam-runners-{runner}-job-server.jar"
    code, line = _run(tmp_path, runner, f"{runner}_job_server_jar={url}", f"jar_cache_dir={tmp_path / 'jars'}")
    assert code == 2 and "cannot be downloaded" in line and f"{runner}_job_server_jar=PATH" in line
    master = "flink_master=127.0.0.1" if runner == "flink" else "spark_master_url=spark://127.0.0.1"
    code, line = _run(tmp_path, runner, f"{master}:{port}")
    assert code == 3 and f"127.0.0.1:{port} is unreachable" in line


def test_flink_and_spark_runners_submit_a_real_job_to_a_job_server(tmp_path: Path) -> None:
    """Both portable runners submit the pipeline over Beam's job API (the protocol of the Flink and Spark job
    servers) to Beam's Python job service on 127.0.0.1, the SDK harness in this process (LOOPBACK): the
    findings equal the plain run's."""
    ws = tmp_path / "ws"
    ws.mkdir()
    for name, text in planted_files(planted()).items():
        (ws / name).write_text(text, encoding="utf-8")
    env = {"SHAREGUARD_CACHE_DIR": str(tmp_path / "cache")}
    port = free_port()
    docs = {}
    with serve("apache_beam.runners.portability.local_job_service_main", ["--port", str(port)], port):
        for runner in (None, "flink", "spark"):
            out = tmp_path / f"{runner}.json"
            extra = [] if runner is None else ["--runner", runner]
            if runner:
                extra += [
                    "--beam-option",
                    f"job_endpoint=127.0.0.1:{port}",
                    "--beam-option",
                    "environment_type=LOOPBACK",
                ]
            res = CliRunner(env=env).invoke(
                build_app(), ["data", str(ws), "--format", "json", "-o", str(out), "-q", *extra]
            )
            assert res.exit_code == 0, res.stderr
            docs[runner] = json.loads(out.read_text(encoding="utf-8"))
    assert len(docs[None]["findings"]) >= 10
    for runner in ("flink", "spark"):
        assert finding_keys(docs[runner]) == finding_keys(docs[None])
        assert docs[runner]["metadata"]["beam_runner"] == ("FlinkRunner" if runner == "flink" else "SparkRunner")
