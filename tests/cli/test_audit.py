"""`shareguard audit` end to end: formats, waivers, exit codes, output files and user errors."""

from __future__ import annotations

import json
import re
from pathlib import Path

import jsonschema
import pytest
from typer.testing import CliRunner

from shareguard.cli.main import build_app
from shareguard.core.waivers import WAIVER_FILENAME
from shareguard.report.json_report import report_schema

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "ml-platform"


def run(*args: str) -> tuple[int, str, str]:
    res = CliRunner().invoke(build_app(), list(args), catch_exceptions=False)
    return res.exit_code, res.stdout, res.stderr


@pytest.fixture(scope="module")
def example_json(tmp_path_factory: pytest.TempPathFactory) -> dict:
    out = tmp_path_factory.mktemp("audit") / "report.json"
    code, stdout, _ = run("audit", str(EXAMPLE), "--format", "json", "--output", str(out), "--quiet")
    doc = json.loads(out.read_text(encoding="utf-8"))
    errors = any(i["kind"] == "error" for i in doc["issues"])
    assert code == (3 if errors else 0)
    assert stdout == ""
    return doc


def test_example_json_validates_and_applies_the_example_waivers(example_json: dict) -> None:
    jsonschema.Draft202012Validator(report_schema()).validate(example_json)
    assert example_json["command"] == "audit"
    assert [w["expires"] for w in example_json["expired_waivers"]] == ["2026-03-31"]
    statuses = {c["status"] for c in example_json["controls"] if c["owner"] == "customer"}
    assert statuses <= {"fail", "pass", "not_assessed"}


def test_example_sarif_validates(tmp_path: Path, sarif_schema: dict) -> None:
    out = tmp_path / "report.sarif"
    code, _, _ = run("audit", str(EXAMPLE), "--format", "sarif", "-o", str(out), "-q")
    assert code in (0, 3)
    doc = json.loads(out.read_text(encoding="utf-8"))
    jsonschema.validators.validator_for(sarif_schema)(sarif_schema).validate(doc)


def test_example_table_and_html(tmp_path: Path) -> None:
    code, stdout, _ = run("audit", str(EXAMPLE), "-q")
    assert code in (0, 3)
    assert re.search(r"^Findings\s+\d+ failing finding", stdout, re.M) and "\x1b[" not in stdout
    out = tmp_path / "r.html"
    code, _, _ = run("audit", str(EXAMPLE), "-f", "html", "-o", str(out), "-q")
    assert code in (0, 3)
    page = out.read_text(encoding="utf-8")
    assert page.startswith("<!DOCTYPE html>") and 'id="matrix"' in page


def test_expired_waiver_is_reported_on_stderr(tmp_path: Path) -> None:
    _, _, stderr = run("audit", str(EXAMPLE), "-f", "json", "-o", str(tmp_path / "r.json"))
    assert f"{WAIVER_FILENAME}:12: waiver expired on 2026-03-31" in stderr


def _flagged_workspace(tmp_path: Path) -> Path:
    """A workspace the bundled analyzers flag: the example's IAM policy (`"Action": "*"`)."""
    ws = tmp_path / "ws"
    (ws / "iam").mkdir(parents=True)
    (ws / "iam" / "policy.json").write_bytes((EXAMPLE / "iam" / "policy.json").read_bytes())
    return ws


def _failing(ws: Path, *extra: str) -> list[dict]:
    out = ws.parent / "probe.json"
    run("audit", str(ws), "-f", "json", "-o", str(out), "-q", *extra)
    return [f for f in json.loads(out.read_text(encoding="utf-8"))["findings"] if f["status"] == "fail"]


def test_exit_code_semantics(tmp_path: Path) -> None:
    ws = _flagged_workspace(tmp_path)
    failing = _failing(ws)
    if not failing:
        pytest.skip("no bundled analyzer flags an IAM policy yet")
    code, _, _ = run("audit", str(ws), "-f", "json", "-q", "--exit-code", "7")
    assert code == 7
    code, _, _ = run("audit", str(ws), "-f", "json", "-q")
    assert code == 0, "without --exit-code failing findings do not change the exit code"
    # Only severities that are reported count.
    present = {f["severity"] for f in failing}
    absent = [s for s in ("critical", "high", "medium", "low", "info") if s not in present]
    if absent:
        code, _, _ = run("audit", str(ws), "-f", "json", "-q", "--exit-code", "7", "--severity", ",".join(absent))
        assert code == 0
    # Waived findings do not count.
    (ws / WAIVER_FILENAME).write_text(
        'waivers:\n  - resource: "iam/*"\n    reason: accepted for the test\n    expires: 2999-01-01\n',
        encoding="utf-8",
    )
    code, _, _ = run("audit", str(ws), "-f", "json", "-q", "--exit-code", "7")
    assert code == 0
    assert _failing(ws) == []


def test_clean_workspace_exits_zero_even_with_exit_code(tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("nothing to see\n", encoding="utf-8")
    code, stdout, stderr = run("audit", str(tmp_path), "--exit-code", "5")
    assert code == 0
    assert "not assessed" in stdout.lower()
    assert stderr == ""  # no progress bar without a terminal


def test_malformed_waiver_file_is_one_line_exit_2(tmp_path: Path) -> None:
    (tmp_path / "f.txt").write_text("x", encoding="utf-8")
    bad = tmp_path / WAIVER_FILENAME
    bad.write_text("waivers:\n  - rule: X\n    expires: 2027-01-01\n", encoding="utf-8")
    code, stdout, stderr = run("audit", str(tmp_path))
    assert code == 2
    assert stdout == ""
    assert stderr.strip().splitlines() == [f"error: {bad}:2: `reason` is required"]


def test_malformed_waiver_file_stops_before_the_scan(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A malformed waiver file (or an unknown --format) is rejected before any scanning starts."""
    import shareguard.cli.path_scan as path_scan

    def no_scan(*args: object, **kwargs: object) -> None:
        raise AssertionError("the scan ran before the waiver file was checked")

    monkeypatch.setattr(path_scan, "run_path_scan", no_scan)
    (tmp_path / "f.txt").write_text("x", encoding="utf-8")
    bad = tmp_path / "w.yaml"
    bad.write_text("waivers: [oops\n", encoding="utf-8")
    code, _, stderr = run("audit", str(tmp_path), "--ignore-file", str(bad))
    assert code == 2 and stderr.startswith(f"error: {bad}:")
    code, _, stderr = run("image", "--input", str(tmp_path / "x.tar"), "--ignore-file", str(bad))
    assert code == 2 and stderr.startswith(f"error: {bad}:")
    code, _, stderr = run("audit", str(tmp_path), "--format", "xml")
    assert code == 2 and "unknown format 'xml' for audit" in stderr


def test_waiver_naming_an_unknown_rule_warns(tmp_path: Path) -> None:
    (tmp_path / "Dockerfile").write_text("FROM python:3.12\n", encoding="utf-8")
    waivers = tmp_path / "w.yaml"
    waivers.write_text(
        "waivers:\n  - rule: DOCKERFILE-9999\n    reason: typo\n    expires: 2099-01-01\n"
        "  - rule: DOCKERFILE-001\n    reason: known\n    expires: 2099-01-01\n",
        encoding="utf-8",
    )
    out = tmp_path / "r.json"
    code, _, _ = run("audit", str(tmp_path), "--ignore-file", str(waivers), "-q", "-f", "json", "-o", str(out))
    assert code == 0
    issues = json.loads(out.read_text(encoding="utf-8"))["issues"]
    assert [(i["path"], i["kind"], i["message"]) for i in issues] == [
        (
            f"{waivers}:2",
            "warning",
            "waiver names rule 'DOCKERFILE-9999', which no analyzer of this scan knows: it waives nothing",
        )
    ]
    _, _, stderr = run("audit", str(tmp_path), "--ignore-file", str(waivers), "-f", "json", "-o", str(out))
    assert "waiver names rule 'DOCKERFILE-9999'" in stderr


def test_ignore_file_option(tmp_path: Path) -> None:
    (tmp_path / "f.txt").write_text("x", encoding="utf-8")
    code, _, stderr = run("audit", str(tmp_path), "--ignore-file", str(tmp_path / "nope.yaml"))
    assert code == 2 and stderr.strip() == f"error: {tmp_path / 'nope.yaml'}: waiver file not found"
    other = tmp_path / "waivers.yaml"
    other.write_text("waivers:\n  - rule: X\n    reason: r\n    expires: 2020-01-01\n", encoding="utf-8")
    code, _, stderr = run("audit", str(tmp_path), "--ignore-file", str(other), "-f", "json")
    assert code == 0 and "waiver expired on 2020-01-01" in stderr


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["audit", "/nonexistent/ws"], "error: /nonexistent/ws: no such file or directory"),
        (["audit", ".", "--format", "xml"], "error: unknown format 'xml' for audit (choose: table, json, sarif, html"),
        (["audit", ".", "--severity", "urgent"], "error: unknown severity 'urgent'"),
    ],
)
def test_user_errors_are_one_line_exit_2(args: list[str], message: str) -> None:
    code, stdout, stderr = run(*args)
    assert code == 2 and stdout == ""
    lines = stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(message)


def test_output_is_atomic(tmp_path: Path) -> None:
    (tmp_path / "ws").mkdir()
    (tmp_path / "ws" / "f.txt").write_text("x", encoding="utf-8")
    missing_dir = tmp_path / "no" / "such" / "dir" / "r.json"
    code, _, stderr = run("audit", str(tmp_path / "ws"), "-f", "json", "-o", str(missing_dir))
    assert code == 2 and "output directory does not exist" in stderr
    assert not (tmp_path / "no").exists()
    # /proc refuses new files even to root: the write fails and nothing is left behind.
    code, _, stderr = run("audit", str(tmp_path / "ws"), "-f", "json", "-o", "/proc/self/report.json")
    assert code == 2 and "cannot write output" in stderr and len(stderr.strip().splitlines()) == 1
    # A scan that fails (bad waiver file) leaves an existing report as it was.
    out = tmp_path / "r.json"
    out.write_text("previous report", encoding="utf-8")
    (tmp_path / "ws" / WAIVER_FILENAME).write_text("waivers: [", encoding="utf-8")
    code, _, _ = run("audit", str(tmp_path / "ws"), "-f", "json", "-o", str(out))
    assert code == 2 and out.read_text(encoding="utf-8") == "previous report"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["r.json", "ws"], "no temporary file left behind"


def test_single_file_target(tmp_path: Path) -> None:
    policy = tmp_path / "policy.json"
    policy.write_bytes((EXAMPLE / "iam" / "policy.json").read_bytes())
    out = tmp_path / "r.json"
    code, _, _ = run("audit", str(policy), "-f", "json", "-o", str(out), "-q")
    assert code == 0
    doc = json.loads(out.read_text(encoding="utf-8"))
    assert all(f["resource"]["path"] == "policy.json" for f in doc["findings"])


def test_hostile_file_names_are_printed_literally(tmp_path: Path) -> None:
    """`[bold]` in a file name is text, not rich markup, on stdout and in the issue lines on stderr."""
    ws = tmp_path / "ws"
    ws.mkdir()
    name = "[bold]x[link=e][blink].json"
    (ws / name).write_text('{"Version": "2012-10-17", "Statement": [', encoding="utf-8")
    code, stdout, stderr = run("audit", str(ws))
    assert re.search(r"^Findings\s+\d+ failing finding", stdout, re.M)
    if code == 3:  # some analyzer claimed the broken file and reported it
        assert name in stderr and name in stdout
    else:
        assert code == 0
