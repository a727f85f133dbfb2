"""The Beam pipeline runs for real on the DirectRunner (worker processes) and gives the plain run's findings."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from tests.sensitive.planted import planted, planted_files
from typer.testing import CliRunner

from shareguard.cli.main import build_app

pytest.importorskip("apache_beam")


def _findings(doc: dict) -> list[tuple]:
    return sorted(
        (f["rule_id"], f["resource"]["path"], f["properties"]["detector"], json.dumps(f["location"], sort_keys=True),
         f["evidence"])
        for f in doc["findings"]
    )  # fmt: skip


def _controls(doc: dict) -> dict[str, str]:
    return {c["id"]: c["status"] for c in doc["controls"]}


def test_the_direct_runner_gives_the_plain_runs_findings(tmp_path: Path) -> None:
    ws = tmp_path / "ws"
    (ws / "sub").mkdir(parents=True)
    for name, text in planted_files(planted()).items():
        (ws / name).write_text(text, encoding="utf-8")
        (ws / "sub" / name).write_text(text.replace("\n", "\n\n"), encoding="utf-8")
    (ws / "clean.csv").write_text("a,b\n1,2\n", encoding="utf-8")
    env = {"SHAREGUARD_CACHE_DIR": str(tmp_path / "cache")}
    docs = []
    for extra in ([], ["--runner", "direct", "--workers", "2"]):
        out = tmp_path / f"r{len(docs)}.json"
        res = CliRunner(env=env).invoke(
            build_app(), ["data", str(ws), "--format", "json", "-o", str(out), "-q", *extra]
        )
        assert res.exit_code == 0, res.stderr
        docs.append(json.loads(out.read_text(encoding="utf-8")))
    plain, beam = docs
    assert _findings(beam) == _findings(plain) and len(plain["findings"]) >= 20
    assert _controls(beam) == _controls(plain)
    assert beam["metadata"]["sensitive_summary"] == plain["metadata"]["sensitive_summary"]
    assert not list((tmp_path / "cache").glob("beam-*"))  # the pipeline's files are removed


def test_runner_usage_errors() -> None:
    res = CliRunner().invoke(build_app(), ["data", ".", "--runner", "nope"])
    assert res.exit_code == 2 and "unknown runner" in res.stderr
