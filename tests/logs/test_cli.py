"""`shareguard logs` end to end: formats (OCSF), stdin, --list-rules, usage errors."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from shareguard.cli.main import build_app

EXAMPLE_LOG = Path(__file__).resolve().parents[2] / "examples" / "ml-platform" / "logs" / "cloudtrail.json"


def run(*args: str, stdin: bytes | None = None) -> tuple[int, str, str]:
    result = CliRunner().invoke(build_app(["logs"]), ["logs", *args], input=stdin)
    return result.exit_code, result.stdout, result.stderr


def test_ocsf_detection_findings() -> None:
    code, out, _ = run(str(EXAMPLE_LOG), "--format", "ocsf", "--exit-code", "5", "--no-sigmahq")
    assert code == 5
    findings = json.loads(out)
    assert {f["finding_info"]["analytic"]["uid"] for f in findings} == {"LOGS-AWS-001", "LOGS-AWS-006", "LOGS-AWS-010"}
    for f in findings:
        assert f["class_uid"] == 2004 and f["type_uid"] == 200401 and f["category_uid"] == 2
        assert f["metadata"]["version"] == "1.3.0" and f["metadata"]["product"]["name"] == "shareguard"
        assert f["actor"]["user"]["name"] == "arn:aws:iam::123456789012:user/jane.doe"
        assert f["cloud"]["provider"] == "AWS" and f["severity_id"] in (3, 4)
    assert len({f["metadata"]["correlation_uid"] for f in findings}) == 1


def test_stdin_and_json_report_carry_the_incident() -> None:
    code, out, _ = run("-", "--format", "json", "--no-sigmahq", stdin=EXAMPLE_LOG.read_bytes())
    assert code == 0
    report = json.loads(out)
    assert report["command"] == "logs"
    logs = report["metadata"]["logs"]
    assert logs["events"] == {"cloudtrail": 4} and logs["rules"]["cloudtrail"] > 10
    [incident] = logs["incidents"]
    assert [t["rule"] for t in incident["timeline"]] == ["LOGS-AWS-006", "LOGS-AWS-001", "LOGS-AWS-010"]
    assert incident["response"]
    duty = {c["id"]: c for c in report["controls"]}["LOGGING-C-02"]
    assert duty["status"] == "fail"


def test_list_rules_and_rules_that_do_not_load(tmp_path: Path) -> None:
    (tmp_path / "bad.yml").write_text(
        "title: x\nlogsource: {product: azure, service: signinlogs}\ndetection:\n  s: {a: b}\n  condition: s\n"
    )
    code, out, _ = run("--list-rules", "--rules", str(tmp_path))
    assert code == 0
    assert "LOGS-AWS-001" in out and "cloudtrail:" in out
    assert "not evaluated:" in out and "is not ingested" in out


def test_usage_errors_are_one_line_exit_2(tmp_path: Path) -> None:
    code, _, err = run()
    assert code == 2 and "name a log file" in err
    code, _, err = run(str(tmp_path / "missing.json"))
    assert code == 2 and "no such file" in err
    code, _, err = run(str(EXAMPLE_LOG), "--sink", "carrier-pigeon://x")
    assert code == 2 and "unknown kind" in err


def test_a_bad_line_is_reported_with_its_location_and_the_rest_is_read(tmp_path: Path) -> None:
    bad = tmp_path / "x.jsonl"
    bad.write_bytes(EXAMPLE_LOG.read_bytes().replace(b"\n", b" ") + b"\n{oops\n")
    _, out, err = run(str(bad), str(EXAMPLE_LOG), "--format", "json")
    report = json.loads(out)
    assert len(report["metadata"]["logs"]["incidents"]) >= 1
    assert {c["id"]: c for c in report["controls"]}["LOGGING-C-02"]["status"] == "fail"
    assert "line 2" in err and "invalid JSON" in err


def test_the_json_report_of_logs_follows_the_published_schema() -> None:
    import jsonschema

    schema = json.loads(
        (
            Path(__file__).resolve().parents[2] / "src" / "shareguard" / "report" / "schema" / "report.schema.json"
        ).read_text()
    )
    _, out, _ = run(str(EXAMPLE_LOG), "--format", "json")
    jsonschema.validate(json.loads(out), schema)
