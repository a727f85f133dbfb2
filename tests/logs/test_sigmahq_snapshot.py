"""SigmaHQ's rules as data: the bundled snapshot (licence, attribution, manifest), `logs rules update`,
and the bundled rules evaluated by `logs` and `audit` next to the built-in pack."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from shareguard.cli.main import build_app
from shareguard.logs import sigmahq
from shareguard.logs.detect import Detector, default_rules, sigmahq_rules
from shareguard.logs.events import LogKind
from shareguard.logs.rulemeta import sigmahq_metas
from shareguard.logs.run import LogOptions, load_rules

SHARED = Path(__file__).resolve().parents[3] / "shared" / "data" / "sigma" / "rules"
EXAMPLE_LOG = Path(__file__).resolve().parents[2] / "examples" / "ml-platform" / "logs" / "cloudtrail.json"


def test_bundled_snapshot_carries_licence_attribution_and_a_verified_manifest() -> None:
    folder = sigmahq.bundled_dir()
    m = sigmahq.manifest(folder)
    assert m["license"] == "DRL-1.1" and m["commit"] and m["source"] == "SigmaHQ/sigma"
    assert "Detection Rule License" in folder.joinpath("NOTICE").read_text(encoding="utf-8")
    assert "Detection Rule License" in folder.joinpath("LICENSE").read_text(encoding="utf-8")
    for entry in m["files"]:
        raw = folder.joinpath(*entry["path"].split("/")).read_bytes()
        assert hashlib.sha256(raw).hexdigest() == entry["sha256"], entry["path"]  # copied unchanged
        assert b"author:" in raw
    assert all(s["reason"] for s in m["skipped"])


def test_bundled_rules_all_compile_and_the_metadata_agrees() -> None:
    rules = sigmahq_rules(None)
    assert rules.unsupported == []
    counts = {k: rules.count(k) for k in LogKind}
    assert counts[LogKind.CLOUDTRAIL] >= 50 and counts[LogKind.GCP_AUDIT] >= 10 and counts[LogKind.K8S_AUDIT] >= 10
    assert {i.id for i in rules.infos()} == {m.id for m in sigmahq_metas(None)}
    assert all("Detection Rule License" in i.description for i in rules.infos())  # the author shown per match


def test_update_imports_what_shareguard_reads_and_lists_the_rest(tmp_path: Path) -> None:
    src = tmp_path / "rules"
    (src / "cloud" / "aws").mkdir(parents=True)
    (src / "cloud" / "azure").mkdir(parents=True)
    (src / "cloud" / "aws" / "stop.yml").write_text(
        "title: Stop\nid: 11111111-2222-3333-4444-555555555555\nauthor: A. Person\nlevel: high\n"
        "logsource: {product: aws, service: cloudtrail}\n"
        "detection: {sel: {eventName: StopLogging}, condition: sel}\n"
    )
    (src / "cloud" / "azure" / "x.yml").write_text(
        "title: X\nid: 21111111-2222-3333-4444-555555555555\nlogsource: {product: azure, service: auditlogs}\n"
        "detection: {sel: {a: b}, condition: sel}\n"
    )
    (src / "cloud" / "aws" / "broken.yml").write_text("title: [unclosed\n")
    (src / "cloud" / "aws" / "huge.yml").write_bytes(b"# " + b"x" * (sigmahq.MAX_RULE_BYTES + 1))
    dest = tmp_path / "cache" / "sigmahq"
    report = sigmahq.import_rules(src, dest)
    assert report.kept == ["cloud/aws/stop.yml"]
    reasons = dict(report.skipped)
    assert "not one shareguard reads" in reasons["cloud/azure/x.yml"]
    assert reasons["cloud/aws/broken.yml"].startswith("not YAML")
    assert "budget" in reasons["cloud/aws/huge.yml"]
    # the user's snapshot replaces the bundled one, for `logs` and `audit` alike
    assert sigmahq.active_dir(tmp_path / "cache") == dest
    rules = load_rules(LogOptions(cache_dir=tmp_path / "cache", builtin=False, rules=(), sigmahq=True))
    assert [r.info.id for r in rules.rules] == ["sigma:11111111-2222-3333-4444-555555555555"]
    # a second update replaces the snapshot whole
    (src / "cloud" / "aws" / "stop.yml").unlink()
    assert sigmahq.import_rules(src, dest).kept == []
    assert not (dest / "cloud" / "aws" / "stop.yml").exists()


def test_update_from_the_sigmahq_checkout_reproduces_the_bundled_snapshot(tmp_path: Path) -> None:
    if not SHARED.is_dir():
        pytest.skip("../shared/data/sigma not present")
    report = sigmahq.import_rules(SHARED, tmp_path / "s")
    bundled = sigmahq.manifest(sigmahq.bundled_dir())
    mine = sigmahq.manifest(tmp_path / "s")
    assert mine["files"] == bundled["files"] and mine["commit"] == bundled["commit"]
    assert len(report.kept) == 57 + 16 + 16  # SigmaHQ's CloudTrail, GCP audit and Kubernetes audit rules


def test_sigmahq_alerts_on_the_example_join_its_one_incident() -> None:
    detector = Detector(default_rules())
    detector.feed("cloudtrail.json", EXAMPLE_LOG.open("rb"))
    result = detector.finish()
    assert len(result.incidents) == 1
    ids = {a.rule.id for a in result.incidents[0].alerts}
    assert {"LOGS-AWS-001", "sigma:4db60cc0-36fb-42b7-9b58-a5b53019fb74"} <= ids
    assert [a.rule.id for s in result.signals for a in s.alerts] == ["sigma:905d389b-b853-46d0-9d3d-dea0d3a3cd49"]
    assert not {r.info.id for r in load_rules(LogOptions(sigmahq=False)).rules} & {
        r.info.id for r in sigmahq_rules(None).rules
    }


def test_cli_rules_update_list_show(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SHAREGUARD_CACHE_DIR", str(tmp_path / "cache"))
    app = build_app(["logs"])
    out = CliRunner().invoke(app, ["logs", "rules", "list"])
    assert out.exit_code == 0 and "sigma:4db60cc0-36fb-42b7-9b58-a5b53019fb74" in out.stdout
    out = CliRunner().invoke(app, ["logs", "rules", "show", "4db60cc0-36fb-42b7-9b58-a5b53019fb74"])
    assert out.exit_code == 0 and "author:" in out.stdout and "DRL 1.1" in out.stdout
    src = tmp_path / "src"
    src.mkdir()
    (src / "r.yml").write_text(
        "title: R\nid: 31111111-2222-3333-4444-555555555555\nlogsource: {product: aws, service: cloudtrail}\n"
        "detection: {sel: {eventName: StopLogging}, condition: sel}\n"
    )
    out = CliRunner().invoke(app, ["logs", "rules", "update", "--from", str(src)])
    assert out.exit_code == 0 and "1 rule files imported" in out.stdout
    assert json.loads((tmp_path / "cache" / "sigmahq" / "MANIFEST.json").read_text())["files"][0]["path"] == "r.yml"
    out = CliRunner().invoke(app, ["logs", "--bogus", str(EXAMPLE_LOG)])
    assert out.exit_code == 2
