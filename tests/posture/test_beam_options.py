"""Beam pipeline options in launch scripts, CI steps and Python code."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from cloud_helpers import FIXTURES, rule_lines, scan
from hypothesis import given, settings
from hypothesis import strategies as st

from shareguard.core.context import ScanContext
from shareguard.core.entry import FileEntry
from shareguard.core.errors import ShareguardError
from shareguard.core.settings import Settings
from shareguard.posture.parsers import beam_options


def _parse(p: Path) -> list:  # type: ignore[type-arg]
    e = FileEntry(rel_path=p.name, size=p.stat().st_size, abs_path=p)
    assert beam_options.claim(e)
    return beam_options.parse(e, ScanContext(settings=Settings()))


def test_shell_launch_options_and_lines() -> None:
    (res,) = _parse(FIXTURES / "beam" / "launch.sh")
    a = res.attributes
    assert res.type == "gcp.dataflow.job" and res.source_format == "beam"
    assert a["dataflow_runner"] is True
    assert a["experiments"] == ["enable_stackdriver_agent_metrics", "use_runner_v2"]
    assert a["container_image"].endswith("python311:2.60.0")
    assert a["job_type"] == "streaming"
    assert res.line_of("experiments") == 9


def test_gcloud_flex_template_run() -> None:
    res = _parse(FIXTURES / "beam" / "launch_good.sh")
    flex = res[1]
    assert flex.attributes["ip_configuration"] == "WORKER_IP_PRIVATE"
    assert flex.attributes["kms_key_name"].endswith("cryptoKeys/df")
    assert flex.attributes["flex_template"] is True
    (bad,) = _parse(FIXTURES / "beam" / "flex_run.sh")
    assert bad.attributes["experiments"] == ["enable_stackdriver_agent_metrics"]


def test_python_ast_options() -> None:
    (res,) = _parse(FIXTURES / "beam" / "pipeline.py")
    a = res.attributes
    assert a["dataflow_runner"] is True
    assert "enable_stackdriver_agent_metrics" in a["experiments"]
    assert a["service_account_email"].endswith("-compute@developer.gserviceaccount.com")
    lines = rule_lines(scan(FIXTURES / "beam" / "pipeline.py"))
    assert lines["DATAFLOW-004"] == [13] and lines["DATAFLOW-003"] == [15]


def test_python_kwargs_options_are_clean() -> None:
    (res,) = _parse(FIXTURES / "beam" / "pipeline_good.py")
    assert res.attributes["ip_configuration"] == "WORKER_IP_PRIVATE"
    assert not rule_lines(scan(FIXTURES / "beam" / "pipeline_good.py"))


def test_runtime_options_are_not_missing_findings() -> None:
    assert not rule_lines(scan(FIXTURES / "beam" / "pipeline_local.py"))


def test_cloud_build_yaml_args_list(tmp_path: Path) -> None:
    (tmp_path / "cloudbuild.yaml").write_text(
        "steps:\n"
        "  - name: python:3.11\n"
        "    entrypoint: python\n"
        "    args: ['-m', 'pipeline', '--runner=DataflowRunner', '--experiments=enable_stackdriver_agent_metrics',\n"
        "           '--dataflow_kms_key=projects/p/locations/l/keyRings/r/cryptoKeys/k', '--no_use_public_ips',\n"
        "           '--service_account_email=w@p.iam.gserviceaccount.com']\n"
    )
    assert rule_lines(scan(tmp_path)) == {"DATAFLOW-004": [4]}


def test_python_syntax_error_is_per_file(tmp_path: Path) -> None:
    (tmp_path / "p.py").write_text("import apache_beam\ndef broken(:\n")
    result = scan(tmp_path)
    assert [i.path for i in result.issues if i.kind == "error"] == ["p.py"]


def test_unrelated_files_not_claimed(tmp_path: Path) -> None:
    p = tmp_path / "app.py"
    p.write_text("import flask\n")
    q = tmp_path / "build.sh"
    q.write_text("make all\n")
    for f in (p, q):
        assert not beam_options.claim(FileEntry(rel_path=f.name, size=f.stat().st_size, abs_path=f))


_token = st.one_of(
    st.text(max_size=30),
    st.builds(
        lambda k, v: f"--{k}={v}",
        st.sampled_from(
            [
                "experiments",
                "runner",
                "dataflow_kms_key",
                "parameters",
                "use_public_ips",
                "no_use_public_ips",
                "streaming",
            ]
        ),
        st.text(max_size=20),
    ),
    st.sampled_from(["--no_use_public_ips", "--streaming", "gcloud", "dataflow", "|", "--additional-experiments"]),
)


@settings(max_examples=300, deadline=None)
@given(st.lists(_token, max_size=20))
def test_option_parser_fuzz(tokens: list[str]) -> None:
    opts = beam_options._Options()
    beam_options.parse_command(tokens, opts, lambda tok: 1)
    for key in ("experiments", "additional_experiments"):
        if key in opts.values:
            assert all(isinstance(x, str) for x in opts.values[key])


@settings(max_examples=150, deadline=None)
@given(st.text(max_size=400))
def test_text_parser_fuzz(text: Any) -> None:
    entry = FileEntry(rel_path="run.sh", size=len(text.encode()), data=("DataflowRunner\n" + text).encode())
    try:
        resources = beam_options.parse(entry, ScanContext(settings=Settings()))
    except ShareguardError:
        return  # e.g. NUL bytes: a clean per-file error
    for res in resources:
        assert res.type == "gcp.dataflow.job"
