"""`shareguard config`: end to end through the CLI (formats, --rules, baselines, exit codes)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from typer.testing import CliRunner

from shareguard.cli.main import build_app

FIXTURES = Path(__file__).resolve().parents[1] / "posture" / "fixtures"
EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "ml-platform"
runner = CliRunner()


def _run(*args: str):  # type: ignore[no-untyped-def]
    return runner.invoke(build_app(), ["config", *args])


def _json(result) -> dict:  # type: ignore[no-untyped-def,type-arg]
    return json.loads(result.stdout)


def test_real_world_dockerfiles_json(tmp_path: Path) -> None:
    out = tmp_path / "r.json"
    res = _run(str(FIXTURES / "dockerfile" / "real-world"), "-f", "json", "-o", str(out), "-q")
    assert res.exit_code == 0, res.output
    doc = json.loads(out.read_text())
    rules = {(f["resource"]["path"], f["rule_id"]) for f in doc["findings"]}
    assert ("ngc-triton-serving/Dockerfile", "DOCKERFILE-016") in rules
    assert ("aws-dlc-pytorch-training/Dockerfile", "DOCKERFILE-001") in rules
    assert ("ngc-triton-serving/Dockerfile", "DOCKERFILE-009") in rules


def test_exit_code_option_and_severity_filter() -> None:
    res = _run(
        str(FIXTURES / "dockerfile" / "cases" / "DOCKERFILE-009" / "fail.Dockerfile"),
        "--exit-code",
        "7",
        "-s",
        "critical",
        "-q",
    )
    assert res.exit_code == 7
    res = _run(
        str(FIXTURES / "dockerfile" / "cases" / "DOCKERFILE-024" / "pass.Dockerfile"),
        "--exit-code",
        "7",
        "-s",
        "critical",
        "-q",
    )
    assert res.exit_code == 0


def test_unparseable_file_sets_exit_code_3(tmp_path: Path) -> None:
    (tmp_path / "Dockerfile").write_bytes(b"\x00\x01\x02binary")
    shutil.copy(FIXTURES / "kubernetes" / "cases" / "K8S-002" / "fail.yaml", tmp_path / "pod.yaml")
    res = _run(str(tmp_path), "-f", "json", "-q")
    assert res.exit_code == 3
    assert any(f["rule_id"] == "K8S-002" for f in _json(res)["findings"])


def test_cel_rule_end_to_end(tmp_path: Path) -> None:
    rules = tmp_path / "my-rules"
    rules.mkdir()
    (rules / "gpu.yaml").write_text(
        """\
- id: ACME-GPU-001
  title: GPU jobs must set a memory limit of at least 32Gi
  severity: medium
  control_ids: [KUBERNETES-C-04]
  remediation: Set resources.limits.memory to 32Gi or more on GPU containers.
  resource_types: [k8s.workload]
  condition: >-
    resource.attributes.containers.exists(c,
      has(c.resources) && has(c.resources.limits) && "nvidia.com/gpu" in c.resources.limits
      && !("memory" in c.resources.limits))
"""
    )
    res = _run(str(FIXTURES / "kubernetes" / "real-world"), "--rules", str(rules), "-f", "sarif", "-q")
    assert res.exit_code == 0, res.output
    sarif = json.loads(res.stdout)
    results = [r for run in sarif["runs"] for r in run["results"] if r["ruleId"] == "ACME-GPU-001"]
    assert results
    rule_ids = {r["id"] for run in sarif["runs"] for r in run["tool"]["driver"].get("rules", [])}
    assert "ACME-GPU-001" in rule_ids


def test_bad_rule_file_is_one_line_exit_2(tmp_path: Path) -> None:
    rules = tmp_path / "r"
    rules.mkdir()
    (rules / "bad.yaml").write_text("- id: X\n  title: t\n  severity: high\n")
    res = _run(str(FIXTURES / "kubernetes" / "real-world"), "--rules", str(rules))
    assert res.exit_code == 2
    assert "bad.yaml:1:" in res.output and "needs" in res.output


def test_write_and_use_baseline(tmp_path: Path) -> None:
    ws = tmp_path / "ws"
    shutil.copytree(FIXTURES / "dockerfile" / "real-world" / "ngc-triton-serving", ws)
    base = tmp_path / "baseline.json"
    res = _run(str(ws), "--write-baseline", str(base), "--exit-code", "1", "-q", "-f", "json")
    assert res.exit_code == 1 and base.is_file()
    res = _run(str(ws), "--baseline", str(base), "--exit-code", "1", "-q", "-f", "json")
    assert res.exit_code == 0, res.output
    assert all(f["status"] == "waived" for f in _json(res)["findings"])
    # A second TLS problem in the same file is new, although the rule already has a baseline entry there.
    (ws / "Dockerfile").write_text(
        (ws / "Dockerfile").read_text() + "RUN curl -k -o /tmp/m.bin https://models.example.com/m.bin\n"
    )
    res = _run(str(ws), "--baseline", str(base), "--exit-code", "1", "-q", "-f", "json")
    assert res.exit_code == 1
    failing = [f for f in _json(res)["findings"] if f["status"] == "fail"]
    assert [f["rule_id"] for f in failing] == ["DOCKERFILE-016"]


def test_fips_option_reaches_the_scan(tmp_path: Path) -> None:
    res = _run(str(FIXTURES / "dockerfile" / "cases" / "DOCKERFILE-024" / "pass.Dockerfile"), "--fips-required", "-q")
    assert res.exit_code == 0


def test_example_workspace() -> None:
    if not EXAMPLE.is_dir():
        return
    res = _run(str(EXAMPLE), "-f", "json", "-q", "--ignore-file", str(EXAMPLE / ".shareguard-ignore.yaml"))
    doc = _json(res)
    rules = {(f["resource"]["path"], f["rule_id"]) for f in doc["findings"]}
    assert ("docker/train/Dockerfile", "DOCKERFILE-001") in rules
    assert ("docker/train/Dockerfile", "DOCKERFILE-016") in rules
    assert ("docker/train/Dockerfile", "DOCKERFILE-009") in rules
    assert ("k8s/train-pytorchjob.yaml", "K8S-002") in rules


def test_missing_path_is_exit_2(tmp_path: Path) -> None:
    res = _run(str(tmp_path / "nope"))
    assert res.exit_code == 2 and "no such file" in res.output
