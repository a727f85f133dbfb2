"""The sensitive-data analyzer through the one analyzer model: `audit` on the example workspace, `data` on
a folder, what it claims, and the verdicts it records."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

import jsonschema
from tests.sensitive.planted import planted, planted_files
from typer.testing import CliRunner

from shareguard.cli.main import build_app
from shareguard.core.options import OptionSet
from shareguard.report.json_report import report_schema
from shareguard.scan import run_path_scan
from shareguard.sensitive.analyzer import SensitiveAnalyzer
from shareguard.sensitive.options import SensitiveOptions

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "ml-platform"
P = planted()


def run(*args: str) -> tuple[int, str, str]:
    res = CliRunner().invoke(build_app(), list(args), catch_exceptions=False)
    return res.exit_code, res.stdout, res.stderr


def test_audit_finds_the_personal_data_in_the_example_customers_csv() -> None:
    result = run_path_scan(EXAMPLE)
    mine = [f for f in result.findings if f.resource.path == "data/customers.csv"]
    detectors = {f.properties["detector"] for f in mine}
    assert {"email", "phone", "date_of_birth", "street_address", "credit_card", "iban"} <= detectors
    assert {f.rule_id for f in mine} == {"DATA-001", "DATA-002"}
    assert all("STORAGE-C-03" in f.control_ids for f in mine)
    email = next(f for f in mine if f.properties["detector"] == "email")
    assert email.location.field_path == "email" and email.location.line == 2 and email.location.record == "1"
    assert email.evidence is not None and "@" not in email.evidence  # masked at creation
    summary = result.metadata["sensitive_summary"]["data/customers.csv"]
    assert summary["email"] == 8 and summary["credit_card"] == 8


def test_a_clean_data_file_is_evaluated_and_passes(tmp_path: Path) -> None:
    (tmp_path / "metrics.csv").write_text("epoch,loss\n1,0.5\n2,0.4\n", encoding="utf-8")
    result = run_path_scan(tmp_path, command="data", capabilities=frozenset({"sensitive"}))
    ev = result.coverage.of("STORAGE-C-03")
    assert ev is not None and ev.resources == {"metrics.csv"} and not result.findings


def test_nothing_claimed_leaves_the_duty_unevaluated(tmp_path: Path) -> None:
    (tmp_path / "main.tf").write_text('resource "x" "y" {}\n', encoding="utf-8")
    result = run_path_scan(tmp_path, capabilities=frozenset({"sensitive"}))
    assert result.coverage.of("STORAGE-C-03") is None  # configuration is the configuration checks' job


def test_truncated_objects_leave_the_duty_incomplete(tmp_path: Path) -> None:
    (tmp_path / "big.txt").write_text(f"{P.email}\n" + "x" * 5000, encoding="utf-8")
    opts = OptionSet().with_(SensitiveOptions(all_files=True, max_bytes_per_object=1000))
    result = run_path_scan(tmp_path, command="data", capabilities=frozenset({"sensitive"}), options=opts)
    ev = result.coverage.of("STORAGE-C-03")
    assert ev is not None and ev.gaps and "first 1000 bytes" in ev.gaps[0].reason
    assert [f.properties["detector"] for f in result.findings] == ["email"]


def test_objects_left_out_of_a_sample_leave_the_duty_incomplete(tmp_path: Path) -> None:
    # clean CSVs only: with a 50 % sample, the unsampled ones must not let the duty pass unseen
    for i in range(20):
        (tmp_path / f"part-{i:02d}.csv").write_text("epoch,loss\n1,0.5\n", encoding="utf-8")
    opts = OptionSet().with_(SensitiveOptions(sample_percent=50))
    result = run_path_scan(tmp_path, command="data", capabilities=frozenset({"sensitive"}), options=opts)
    ev = result.coverage.of("STORAGE-C-03")
    assert ev is not None and ev.resources and not result.findings
    assert ev.gaps and all("50% sample" in g.reason for g in ev.gaps)
    assert len(ev.resources) + len(ev.gaps) == 20


def test_claims_by_path() -> None:
    a = SensitiveAnalyzer()
    assert a.required("data/x.csv", 10) and a.required("src/app.py", 10) and a.required(".env", 10)
    assert not a.required("main.tf", 10) and not a.required("k8s/x.yaml", 10) and not a.required("m.pt", 10)
    every = SensitiveAnalyzer(options=SensitiveOptions(all_files=True))
    assert every.required("main.tf", 10) and every.required("lib.so", 10)  # classified: see the binary tests


def test_data_command_json_and_min_confidence(tmp_path: Path) -> None:
    for name, text in planted_files(P).items():
        (tmp_path / name).write_text(text, encoding="utf-8")
    out = tmp_path / "r.json"
    code, _, _ = run("data", str(tmp_path), "--format", "json", "-o", str(out), "--quiet")
    assert code == 0
    doc = json.loads(out.read_text(encoding="utf-8"))
    jsonschema.Draft202012Validator(report_schema()).validate(doc)
    found = {(f["resource"]["path"], f["properties"]["detector"]) for f in doc["findings"]}
    assert {
        ("creds.env", "aws_access_key_id"),
        ("creds.env", "aws_secret_access_key"),
        ("customers.csv", "email"),
        ("customers.csv", "iban"),
        ("events.jsonl", "github_token"),
        ("app.py", "stripe_key"),
        ("app.py", "slack_token"),
        ("app.py", "huggingface_token"),
        ("app.py", "url_userinfo"),
        ("notes.txt", "credit_card"),
    } <= found
    code, _, _ = run(
        "data", str(tmp_path), "--format", "json", "-o", str(out), "--quiet", "--min-confidence", "very_likely"
    )
    strict = {f["properties"]["detector"] for f in json.loads(out.read_text(encoding="utf-8"))["findings"]}
    assert "github_token" in strict and "url_userinfo" not in strict
    code, _, err = run("data", str(tmp_path), "--min-confidence", "sure")
    assert code == 2 and "unknown confidence" in err


def test_redacted_copy(tmp_path: Path) -> None:
    src = tmp_path / "in"
    src.mkdir()
    for name, text in planted_files(P).items():
        (src / name).write_text(text, encoding="utf-8")
    (src / "blob.gz").write_bytes(b"\x1f\x8b" + b"\x00" * 20)
    for mode in ("mask", "hash", "replace"):
        out = tmp_path / f"out-{mode}"
        code, _, err = run(
            "data", str(src), "--redact", str(out), "--redact-mode", mode, "-f", "json", "-o", str(tmp_path / "r.json")
        )
        assert code == 0 and "not copied" in err
        copied = {p.name: p.read_text(encoding="utf-8") for p in out.iterdir()}
        assert set(copied) == set(planted_files(P))
        blob = "\n".join(copied.values())
        assert not [s for s in P.secrets() if s in blob]
        for line in copied["events.jsonl"].splitlines():
            json.loads(line)  # still valid JSON
        assert copied["customers.csv"].splitlines()[0] == "id,name,email,iban"
    hashed = (tmp_path / "out-hash" / "customers.csv").read_text(encoding="utf-8")
    assert "<email:" in hashed and "<iban:" in hashed
    code, _, err = run("data", str(src), "--redact", str(src / "x"))
    assert code == 2 and "inside the input" in err


def test_min_confidence_filters_what_is_shown_never_what_is_decided(tmp_path: Path) -> None:
    # A US SSN without a context word is a `possible` detection: `--min-confidence likely` hides it
    # from the listing, yet the data-at-rest duty it breaks still fails, and the report says so.
    (tmp_path / "ids.log").write_text("boot ok\nrecord 536-90-4399 stored\n", encoding="utf-8")
    out = tmp_path / "r.json"

    def report(*extra: str) -> dict:
        code, _, _ = run("data", str(tmp_path), "--format", "json", "-o", str(out), "--quiet", *extra)
        assert code == 0
        return json.loads(out.read_text(encoding="utf-8"))

    shown = report()
    (f,) = shown["findings"]
    assert f["properties"]["confidence"] == "possible"
    assert {c["id"]: c["status"] for c in shown["controls"]}["STORAGE-C-03"] == "fail"
    hidden = report("--min-confidence", "likely")
    assert hidden["findings"] == [] and hidden["summary"]["filtered_out"] == 1
    assert {c["id"]: c["status"] for c in hidden["controls"]}["STORAGE-C-03"] == "fail"
    _, table, _ = run("data", str(tmp_path), "--format", "table", "--min-confidence", "likely")
    assert "1 finding below the confidence threshold hidden" in " ".join(table.split())


def test_matches_under_the_detection_floor_are_no_detections_unless_asked_for(tmp_path: Path) -> None:
    # A MAC address with no context word is `unlikely`: as under DLP's default minimum likelihood it is no
    # detection by default (the duty passes on the evaluated file); asked for, it is listed and counts.
    (tmp_path / "devices.log").write_text("boot ok\nseen 3c:22:fb:1a:9e:07 at the gate\n", encoding="utf-8")
    out = tmp_path / "r.json"
    run("data", str(tmp_path), "--format", "json", "-o", str(out), "--quiet")
    doc = json.loads(out.read_text(encoding="utf-8"))
    assert doc["findings"] == [] and doc["summary"].get("filtered_out", 0) == 0
    assert {c["id"]: c["status"] for c in doc["controls"]}["STORAGE-C-03"] == "pass"
    run("data", str(tmp_path), "--format", "json", "-o", str(out), "--quiet", "--min-confidence", "very_unlikely")
    doc = json.loads(out.read_text(encoding="utf-8"))
    (f,) = doc["findings"]
    assert f["properties"]["detector"] == "mac_address" and f["properties"]["confidence"] == "unlikely"
    assert {c["id"]: c["status"] for c in doc["controls"]}["STORAGE-C-03"] == "fail"


def test_the_report_says_person_names_were_not_assessed(tmp_path: Path) -> None:
    (tmp_path / "people.csv").write_text("name,city\nAda Lovelace,London\n", encoding="utf-8")
    out = tmp_path / "r.json"
    run("data", str(tmp_path), "--format", "json", "-o", str(out), "--quiet")
    note = json.loads(out.read_text(encoding="utf-8"))["metadata"]["not_assessed"]
    assert "named-entity model" in note["sensitive: person names"]
    _, table, _ = run("data", str(tmp_path), "--format", "table")
    assert "person names: not assessed" in " ".join(table.split())


PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(64)
PDF = b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<< /Length 4 /Filter /FlateDecode >>\nstream\n\x00\x9c\x01\x02"


def test_unsupported_binary_data_leaves_the_data_duties_incomplete(tmp_path: Path) -> None:
    """`audit`: a data file with binary content of no format that lacks text (here an unknown one and a
    SQLite database under data names) is unsupported: the data duties are incomplete, with each object and
    the reason, never a pass on the clean CSV beside them."""
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "metrics.csv").write_text("epoch,loss\n1,0.5\n", encoding="utf-8")
    (tmp_path / "data" / "records.dat").write_bytes(b"\x00\x01\x02rec" * 100)
    (tmp_path / "data" / "users.dat").write_bytes(b"SQLite format 3\x00" + bytes(100))
    result = run_path_scan(tmp_path, capabilities=frozenset({"sensitive"}))
    ev = result.coverage.of("STORAGE-C-03")
    assert ev is not None and "data/metrics.csv" in ev.resources
    assert sorted((g.path, g.reason) for g in ev.gaps) == [
        ("data/records.dat", "unsupported format (unknown binary format): not classified for sensitive data"),
        ("data/users.dat", "unsupported format (SQLite database): not classified for sensitive data"),
    ]
    code, out, err = run("audit", str(tmp_path), "--format", "json", "-q")
    assert code in (0, 3), err
    duty = next(c for c in json.loads(out)["controls"] if c["id"] == "STORAGE-C-03")
    assert duty["status"] == "incomplete" and "(+1 more)" in duty["reason"] and "unsupported format" in duty["reason"]


def _data_json(path: Path) -> dict:
    code, out, err = run("data", str(path), "--format", "json", "-q")
    assert code in (0, 3), err
    return json.loads(out)


def test_formats_without_text_are_skipped_with_the_reason_and_leave_the_duty_passing(tmp_path: Path) -> None:
    """`data`: an image, compiled code and tensor-only weights cannot hold the data: listed as skipped with
    the reason, no gap; a PDF can, and is unsupported; so is a PDF member of a zip, not an image member."""
    (tmp_path / "metrics.csv").write_text("epoch,loss\n1,0.5\n", encoding="utf-8")
    (tmp_path / "logo.png").write_bytes(PNG)
    (tmp_path / "plot.dat").write_bytes(PNG)  # by its content, whatever the name
    (tmp_path / "lib.so").write_bytes(b"\x7fELF\x02\x01\x01" + bytes(100))
    (tmp_path / "model.safetensors").write_bytes(b"\x08\x00\x00\x00\x00\x00\x00\x00{}      " + bytes(16))
    doc = _data_json(tmp_path)
    duty = next(c for c in doc["controls"] if c["id"] == "STORAGE-C-03")
    assert duty["status"] == "pass", duty
    log = next(a for a in doc["scanned"]["analyzers"] if a["analyzer"] == "sensitive.files")
    skipped = {s["path"]: s["reason"] for s in log["skipped_paths"]}
    assert skipped["logo.png"].startswith("image:") and skipped["plot.dat"].startswith("image:")
    assert skipped["lib.so"].startswith("compiled code:") and skipped["model.safetensors"].startswith("model weights")
    (tmp_path / "report.pdf").write_bytes(PDF)
    with zipfile.ZipFile(tmp_path / "bundle.zip", "w") as zf:
        zf.writestr("img/a.png", PNG)
        zf.writestr("docs/b.pdf", PDF)
    doc = _data_json(tmp_path)
    duty = next(c for c in doc["controls"] if c["id"] == "STORAGE-C-03")
    assert duty["status"] == "incomplete" and "unsupported format (PDF)" in duty["reason"]
    assert sorted(g["path"] for g in duty["gaps"]) == ["bundle.zip!docs/b.pdf", "report.pdf"]


def test_binary_data_in_a_root_filesystem_outside_installed_software(tmp_path: Path) -> None:
    """`rootfs`: binary data files of installed software (ICU tables under usr/share) are not data at rest;
    an application's binary data file is, and is unsupported."""
    (tmp_path / "etc").mkdir()
    (tmp_path / "etc" / "os-release").write_text('ID=debian\nVERSION_ID="12"\n', encoding="utf-8")
    (tmp_path / "usr" / "share" / "icu").mkdir(parents=True)
    (tmp_path / "usr" / "share" / "icu" / "icudt74l.dat").write_bytes(b"\x00\x01\x02tab" * 100)
    (tmp_path / "srv" / "app").mkdir(parents=True)
    (tmp_path / "srv" / "app" / "users.dat").write_bytes(b"\x00\x01\x02rec" * 100)
    code, out, err = run("rootfs", str(tmp_path), "--format", "json", "-q")
    assert code in (0, 3), err
    duty = next(c for c in json.loads(out)["controls"] if c["id"] == "STORAGE-C-03")
    assert duty["status"] == "incomplete" and [g["path"] for g in duty["gaps"]] == ["srv/app/users.dat"]
