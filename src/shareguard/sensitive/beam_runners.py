"""The Beam runners of `shareguard data --runner`: their pipeline options, and what each needs checked before
a pipeline is built, so that a missing option, credential, job-server jar or an unreachable service ends
the run with one line naming it (exit 2: something the user must give; exit 3: a service named or needed is
unreachable, so nothing was scanned) instead of a traceback or a wait of minutes.

- `direct`: local worker processes (`--workers`); needs nothing.
- `dataflow`: `project`, `region`, `temp_location=gs://…`, a way for the workers to get shareguard
  (`sdk_container_image`, `requirements_file`, `setup_file` or `extra_package(s)`), Google credentials
  (application default credentials), Beam's GCP extra, and the Dataflow API reachable.
- `flink`, `spark`: portable runners. Either `job_endpoint=HOST:PORT` names a running job server (it must
  accept a connection), or Beam starts one from its job-server jar: `java` on PATH and the jar either given
  (`flink_job_server_jar` / `spark_job_server_jar`), already in Beam's jar cache, or downloadable from its
  Maven repository. A `flink_master` / `spark_master_url` naming a remote cluster must accept a connection.
"""

from __future__ import annotations

import importlib
import importlib.util
import os
import shutil
import socket
import urllib.parse
from collections.abc import Sequence
from typing import Any

from shareguard.core.errors import ConfigError, ShareguardError

RUNNERS = {"direct": "DirectRunner", "dataflow": "DataflowRunner", "flink": "FlinkRunner", "spark": "SparkRunner"}
CONNECT_TIMEOUT = 5.0
"""Seconds to wait for a service's TCP connection in the checks before a pipeline is built."""
DATAFLOW_ENDPOINT = "https://dataflow.googleapis.com"
_DATAFLOW_STAGING = ("sdk_container_image", "requirements_file", "setup_file", "extra_package", "extra_packages")


class RunnerUnreachable(ShareguardError):
    """A runner's service (job server, cluster, Dataflow API) does not answer: nothing was scanned."""

    exit_code = 3


def pipeline_flags(runner: str, workers: int, beam_options: Sequence[str]) -> list[str]:
    """The Beam pipeline options of a run: the runner's own, then the user's `--beam-option KEY=VALUE`s."""
    if runner not in RUNNERS:
        raise ConfigError(f"unknown runner {runner!r} (one of {', '.join(RUNNERS)})")
    flags = [f"--runner={RUNNERS[runner]}"]
    if runner == "direct":
        flags += [
            f"--direct_num_workers={max(1, workers)}",
            "--direct_running_mode=multi_processing",
            "--default_sdk_harness_log_level=ERROR",
        ]
    for opt in beam_options:
        if "=" not in opt:
            raise ConfigError(f"--beam-option wants KEY=VALUE, got {opt!r}")
        k, v = opt.split("=", 1)
        key = k.strip().lstrip("-").replace("-", "_")
        # A switch (flink_submit_uber_jar, save_main_session…) is given as KEY=true: Beam's parser wants it bare.
        flags.append(f"--{key}" if v.strip().lower() == "true" else f"--{key}={v}")
    return flags


def flag_values(flags: Sequence[str]) -> dict[str, str]:
    """`--key=value` flags as a dict (the last one given wins, as in Beam)."""
    out: dict[str, str] = {}
    for f in flags:
        if f.startswith("--"):
            k, _, v = f[2:].partition("=")
            out[k] = v if "=" in f else "true"
    return out


def preflight(runner: str, flags: Sequence[str]) -> None:
    """Raise `ConfigError` (exit 2) for what the runner needs and was not given, `RunnerUnreachable`
    (exit 3) for a service that does not accept a connection within `CONNECT_TIMEOUT` seconds."""
    values = flag_values(flags)
    if runner == "dataflow":
        _dataflow(values)
    elif runner in ("flink", "spark"):
        _portable(runner, values)


def _dataflow(values: dict[str, str]) -> None:
    missing = [f"{k}=…" for k in ("project", "region", "temp_location") if not values.get(k)]
    if not any(values.get(k) for k in _DATAFLOW_STAGING):
        missing.append("sdk_container_image=… or requirements_file=… (shareguard on the workers)")
    if missing:
        raise ConfigError("--runner dataflow needs --beam-option " + ", ".join(missing))
    if not values["temp_location"].startswith("gs://"):
        raise ConfigError(
            f"--runner dataflow needs temp_location on Cloud Storage (gs://…), got {values['temp_location']!r}"
        )
    try:
        gauth: Any = importlib.import_module("google.auth")
        gexc: Any = importlib.import_module("google.auth.exceptions")
    except ImportError:
        raise ConfigError("--runner dataflow needs Beam's GCP extra: pip install 'apache-beam[gcp]'") from None
    try:
        gauth.default()
    except gexc.DefaultCredentialsError:
        raise ConfigError(
            "--runner dataflow: no Google Cloud credentials (set GOOGLE_APPLICATION_CREDENTIALS to a key file, or "
            "run `gcloud auth application-default login`)"
        ) from None
    if importlib.util.find_spec("apitools") is None:
        raise ConfigError("--runner dataflow needs Beam's GCP extra: pip install 'apache-beam[gcp]'")
    endpoint = values.get("dataflow_endpoint") or DATAFLOW_ENDPOINT
    _reach("--runner dataflow: the Dataflow API", endpoint, 443)


def _portable(runner: str, values: dict[str, str]) -> None:
    endpoint = values.get("job_endpoint")
    if endpoint and endpoint != "embed":
        _reach(f"--runner {runner}: the job server", endpoint, None)
        return
    master_key = "flink_master" if runner == "flink" else "spark_master_url"
    master = values.get(master_key, "")
    if runner == "flink" and master and master not in ("[auto]", "[local]"):
        _reach(f"--runner flink: the Flink master {master_key}", master, 8081)
    if runner == "spark" and master.startswith("spark://"):
        _reach(f"--runner spark: the Spark master {master_key}", master, 7077)
    if _true(values.get(f"{runner}_submit_uber_jar", "")):
        # Beam builds the jar in this process and posts it to the cluster's REST API: no local Java needed.
        rest = values.get("spark_rest_url") if runner == "spark" else master
        if not rest or rest in ("[auto]", "[local]"):
            key = "spark_rest_url" if runner == "spark" else "flink_master"
            raise ConfigError(f"--runner {runner} with {runner}_submit_uber_jar needs --beam-option {key}=URL")
        _reach(f"--runner {runner}: the cluster's REST API", rest, 6066 if runner == "spark" else 8081)
        _jar_available(runner, values)
        return
    java = values.get("job_server_java_launcher", "java")
    if shutil.which(java) is None:
        raise ConfigError(
            f"--runner {runner} starts Beam's {runner} job server, which needs Java ({java!r} is not on PATH); "
            "or give --beam-option job_endpoint=HOST:PORT of a running job server"
        )
    _jar_available(runner, values)


def _true(value: str) -> bool:
    return value.strip().lower() in ("1", "true", "yes")


def _jar_available(runner: str, values: dict[str, str]) -> None:
    """Raise `ConfigError` unless the runner's job-server jar exists, is in Beam's cache, or its download
    host answers."""
    jar = _job_server_jar(runner, values)
    if jar is None or os.path.exists(jar):
        return
    url = urllib.parse.urlparse(jar)
    if url.scheme not in ("http", "https"):
        raise ConfigError(f"--runner {runner}: job-server jar {jar} does not exist")
    cache = values.get("jar_cache_dir") or os.path.expanduser("~/.apache_beam/cache/jars")
    cached = os.path.join(cache, os.path.basename(url.path))
    if os.path.exists(cached):
        return
    try:
        _reach("", jar, 443 if url.scheme == "https" else 80)
    except RunnerUnreachable as exc:
        raise ConfigError(
            f"--runner {runner} needs Beam's job-server jar {os.path.basename(url.path)}, which is not in {cache} "
            f"and cannot be downloaded ({exc.message}); put it there, or give --beam-option "
            f"{runner}_job_server_jar=PATH or job_endpoint=HOST:PORT of a running job server"
        ) from None


def _job_server_jar(runner: str, values: dict[str, str]) -> str | None:
    """The jar Beam's job server would start from: the one given, else Beam's default (a Maven URL)."""
    given = values.get(f"{runner}_job_server_jar")
    if given:
        return given
    try:
        options: Any = importlib.import_module("apache_beam.options.pipeline_options")
        mod: Any = importlib.import_module(f"apache_beam.runners.portability.{runner}_runner")
    except ImportError:  # pragma: no cover - Beam is imported before this is asked
        return None
    opts = options.PipelineOptions([f"--{k}" if v == "true" else f"--{k}={v}" for k, v in values.items()])
    server = mod.FlinkJarJobServer(opts) if runner == "flink" else mod.SparkJarJobServer(opts)
    path: str = server.path_to_jar()
    return path


def _reach(what: str, address: str, default_port: int | None) -> None:
    """Raise `RunnerUnreachable` unless `address` (HOST:PORT or a URL) accepts a TCP connection."""
    parsed = urllib.parse.urlparse(address if "://" in address else f"tcp://{address}")
    host = parsed.hostname
    try:
        port = parsed.port or default_port
    except ValueError:
        port = None
    if not host or port is None:
        raise ConfigError(f"{what}: {address!r} is not HOST:PORT")
    try:
        with socket.create_connection((host, port), timeout=CONNECT_TIMEOUT):
            return
    except OSError as exc:
        why = "timed out" if isinstance(exc, TimeoutError) else (exc.strerror or type(exc).__name__)
        prefix = f"{what} at " if what else ""
        raise RunnerUnreachable(f"{prefix}{host}:{port} is unreachable ({why})") from None
