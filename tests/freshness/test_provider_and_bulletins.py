"""Provider mode and bulletins end to end through the CLI: a platform team publishes a vulnerable internal image,
`catalog publish` emits the bulletin (Markdown, OSV JSON, Atom) and names the consumer that must update; the
consumer ingests the Atom feed with `bulletins update` and its audit says which bulletin affects which image."""

from __future__ import annotations

import json
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from typer.testing import CliRunner

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "sources"))

from imagebuild import directory, file, make_layer, write_docker_archive

from shareguard.cli.main import build_app

ATOM = "{http://www.w3.org/2005/Atom}"
METADATA = "Metadata-Version: 2.1\nName: acme-featurelib\nVersion: 1.2.0\n"
SITE = "usr/local/lib/python3.11/site-packages"


@pytest.fixture(autouse=True)
def _pinned_now(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SHAREGUARD_NOW", "2026-12-03T12:00:00+00:00")


def cli(*args: str) -> tuple[int, str, str]:
    r = CliRunner().invoke(build_app(), list(args), catch_exceptions=False)
    return r.exit_code, r.stdout, r.stderr


def _image(tmp_path: Path, name: str, *, vulnerable: bool) -> Path:
    entries = [directory("usr"), directory("usr/local"), directory("usr/local/lib")]
    if vulnerable:
        entries += [
            directory(f"{SITE}/acme_featurelib-1.2.0.dist-info"),
            file(f"{SITE}/acme_featurelib-1.2.0.dist-info/METADATA", METADATA),
        ]
    else:
        entries.append(file("usr/local/lib/README", "no featurelib here\n"))
    return write_docker_archive(tmp_path / name, [make_layer(entries)], tag="acme/pytorch-train:x")


def test_provider_mode_emits_a_bulletin_for_a_vulnerable_internal_image_and_names_the_consumer(tmp_path: Path) -> None:
    osv = tmp_path / "osv"
    osv.mkdir()
    (osv / "GHSA-acme-0001.json").write_text(
        json.dumps(
            {
                "schema_version": "1.6.0",
                "id": "GHSA-acme-0001",
                "modified": "2026-11-20T00:00:00Z",
                "published": "2026-11-20T00:00:00Z",
                "aliases": ["CVE-2026-99001"],
                "summary": "acme-featurelib deserialises untrusted input",
                "affected": [
                    {
                        "package": {"ecosystem": "PyPI", "name": "acme-featurelib"},
                        "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "0"}, {"fixed": "1.3.0"}]}],
                    }
                ],
            }
        )
    )
    code, _, err = cli("db", "update", "--from", str(osv), "--quiet")
    assert code == 0, err
    _image(tmp_path, "old.tar", vulnerable=True)
    _image(tmp_path, "new.tar", vulnerable=False)
    (tmp_path / "catalog.yaml").write_text(
        """publisher: acme-ml-platform
url: https://ml-images.acme.example
images:
  - {name: acme/pytorch-train, tag: "2.6-2026.10", released: "2026-10-01", end_of_patch: "2027-10-01", input: old.tar}
  - {name: acme/pytorch-train, tag: "2.6-2026.11", released: "2026-11-02", end_of_patch: "2027-11-02", input: new.tar}
"""
    )
    # A consumer's workspace runs the old release; its audit report is what the provider is handed.
    ws = tmp_path / "consumer"
    ws.mkdir()
    (ws / "train.yaml").write_text(
        """apiVersion: batch/v1
kind: Job
metadata: {name: train}
spec:
  template:
    spec:
      restartPolicy: Never
      containers:
        - name: train
          image: registry.acme.example/acme/pytorch-train:2.6-2026.10
"""
    )
    report = tmp_path / "consumer.json"
    code, _, err = cli("audit", str(ws), "--format", "json", "-o", str(report), "--quiet")
    assert code in (0, 3), err
    out = tmp_path / "out"
    code, stdout, err = cli(
        "catalog", "publish", str(tmp_path / "catalog.yaml"), "--out", str(out), "--consumers", str(report)
    )
    assert code == 0, err
    md = (out / "bulletins.md").read_text()
    assert "GHSA-acme-0001" in md and "acme/pytorch-train:2.6-2026.10" in md
    assert "Moving to acme/pytorch-train:2.6-2026.11 fixes 1 of the 1 known vulnerabilities." in md
    osv_out = json.loads((out / "bulletins.json").read_text())["bulletins"]
    assert len(osv_out) == 1 and osv_out[0]["aliases"] == ["CVE-2026-99001"]
    assert osv_out[0]["affected"][0]["versions"] == ["2.6-2026.10"]
    entries = ET.parse(out / "bulletins.atom").getroot().findall(f"{ATOM}entry")
    assert len(entries) == 1
    assert f"{report}: uses acme/pytorch-train:2.6-2026.10: must update" in stdout

    # The consumer side: the provider's Atom feed in the local database; the audit names bulletin and fix.
    code, _, err = cli("bulletins", "update", "--from", str(out / "bulletins.atom"))
    assert code == 0, err
    code, stdout, err = cli("audit", str(ws), "--format", "json", "--quiet")
    doc = json.loads(stdout)
    (hit,) = [f for f in doc["findings"] if f["rule_id"] == "FRESH-BUL-001"]
    assert hit["properties"]["bulletin"] == osv_out[0]["id"]
    assert hit["properties"]["cves"] == ["CVE-2026-99001"]
    assert hit["remediation"]["fixed_version"] == "2.6-2026.11"
    assert hit["resource"]["path"] == "train.yaml"

    # The provider's catalog in the consumer's release catalog: the same engine judges internal images.
    code, _, err = cli("catalog", "update", "--from", str(tmp_path / "catalog.yaml"))
    assert code == 0, err
    code, stdout, err = cli("audit", str(ws), "--format", "json", "--quiet")
    (newer,) = [f for f in json.loads(stdout)["findings"] if f["rule_id"] == "FRESH-DLC-003"]
    assert newer["properties"]["move_to"] == "2.6-2026.11"
    assert newer["remediation"]["command"] == "docker pull registry.acme.example/acme/pytorch-train:2.6-2026.11"


def test_bulletins_update_reads_rss_and_osv_and_keeps_previous_data_on_a_bad_feed(tmp_path: Path) -> None:
    rss = tmp_path / "aws.xml"
    rss.write_text(
        """<?xml version="1.0"?>
<rss version="2.0"><channel><title>AWS security bulletins</title>
<item><title>AWS-2026-031: Deep Learning Containers PyTorch 2.6.0-gpu-py312-cu126-ubuntu22.04-sagemaker (CVE-2026-11111)</title>
<link>https://aws.amazon.com/security/security-bulletins/AWS-2026-031/</link>
<guid>AWS-2026-031</guid><pubDate>Tue, 10 Nov 2026 18:00:00 GMT</pubDate>
<description>Update to 2.10.0-gpu-py313-cu130-ubuntu22.04-sagemaker.</description></item>
</channel></rss>"""
    )
    code, _, err = cli("bulletins", "update", "--from", str(rss))
    assert code == 0, err
    code, stdout, _ = cli("bulletins", "show", "--format", "json")
    (b,) = json.loads(stdout)
    assert b["id"] == "AWS-2026-031" and b["cves"] == ["CVE-2026-11111"] and b["published"] == "2026-11-10"
    assert "2.6.0-gpu-py312-cu126-ubuntu22.04-sagemaker" in {a["product"] for a in b["affected"]}
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps([{"id": "X-1", "published": "2026-02-30"}]))
    code, _, err = cli("bulletins", "update", "--from", str(bad))
    assert code == 2 and "bad.json" in err and "X-1" in err and "left in place" in err
    code, stdout, _ = cli("bulletins", "show", "--format", "json")
    assert [x["id"] for x in json.loads(stdout)] == ["AWS-2026-031"]


def test_bad_provider_catalogs_are_one_error_naming_the_entry(tmp_path: Path) -> None:
    cases = {
        "unknown": ("images:\n  - {name: a, tag: '1', released: '2026-01-01', input: x.tar, colour: red}\n", "colour"),
        "dates": (
            "images:\n  - {name: a, tag: '1', released: '2026-01-01', end_of_patch: '2025-01-01', input: x.tar}\n",
            "impossible dates",
        ),
        "dup": (
            "images:\n  - {name: a, tag: '1', released: '2026-01-01', input: x.tar}\n  - {name: a, tag: '1', released: '2026-02-01', input: y.tar}\n",
            "duplicate entry a:1",
        ),
        "both": (
            "images:\n  - {name: a, tag: '1', released: '2026-01-01', input: x.tar, reference: r/a:1}\n",
            "exactly one of",
        ),
        "baddate": ("images:\n  - {name: a, tag: '1', released: '2026-13-01', input: x.tar}\n", "not a date"),
    }
    for name, (text, message) in cases.items():
        path = tmp_path / f"{name}.yaml"
        path.write_text("publisher: acme\n" + text)
        code, _, err = cli("catalog", "publish", str(path), "--out", str(tmp_path / "out"))
        assert code == 2, name
        assert message in err and f"{name}.yaml" in err and "images[" in err, (name, err)
    assert not (tmp_path / "out").exists()
