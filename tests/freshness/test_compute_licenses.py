"""Compute Engine instance and disk descriptions: `licenses` of the Deep Learning VM project are evidence of
what a VM runs, end to end through `shareguard audit`. The license URL is the Compute Engine API's form
(`projects/{project}/global/licenses/{license}`); the license *names* below are test inputs (the names Google
attaches to Deep Learning VM images were not verified): one follows the published image family scheme, one does
not."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from shareguard.cli.main import build_app

LICENSES = "https://www.googleapis.com/compute/v1/projects/deeplearning-platform-release/global/licenses/"


@pytest.fixture(autouse=True)
def _pinned_now(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SHAREGUARD_NOW", "2026-12-03T12:00:00+00:00")


def _instance(licenses: list[str], source_image: str | None = None) -> dict[str, Any]:
    disk: dict[str, Any] = {
        "kind": "compute#attachedDisk",
        "boot": True,
        "deviceName": "trainer",
        "licenses": [LICENSES + name for name in licenses],
    }
    if source_image:
        disk["initializeParams"] = {"sourceImage": source_image}
    return {
        "kind": "compute#instance",
        "name": "trainer",
        "status": "RUNNING",
        "creationTimestamp": "2026-11-20T10:00:00.000-07:00",
        "disks": [disk],
    }


def _audit(tmp_path: Path, doc: dict[str, Any]) -> dict[str, Any]:
    (tmp_path / "instance.json").write_text(json.dumps(doc, indent=2))
    result = CliRunner().invoke(
        build_app(), ["audit", str(tmp_path), "--format", "json", "--quiet"], catch_exceptions=False
    )
    out: dict[str, Any] = json.loads(result.stdout)
    return out


def _duty(doc: dict[str, Any]) -> dict[str, Any]:
    return dict(next(c for c in doc["controls"] if c["id"] == "DLVM-C-01"))


def _images(doc: dict[str, Any]) -> list[dict[str, Any]]:
    return list(doc.get("metadata", {}).get("freshness", {}).get("images", []))


def test_a_license_named_by_the_family_scheme_identifies_the_line(tmp_path: Path) -> None:
    doc = _audit(tmp_path, _instance(["pytorch-2-1-cu121-ubuntu-2204-py310"]))
    fresh = [f for f in doc["findings"] if f["rule_id"] == "FRESH-DLVM-001"]
    assert len(fresh) == 1 and "license pytorch-2-1-cu121-ubuntu-2204-py310" in json.dumps(fresh[0])
    assert _duty(doc)["status"] == "fail"


def test_a_license_naming_no_line_is_unidentified_with_the_license_as_evidence(tmp_path: Path) -> None:
    doc = _audit(tmp_path, _instance(["deep-learning-vm"]))
    assert not [f for f in doc["findings"] if f["rule_id"].startswith("FRESH-DLVM")]
    duty = _duty(doc)
    assert duty["status"] != "pass"
    assert "unidentified" in json.dumps(duty) and "license deep-learning-vm" in json.dumps(duty)


def test_other_projects_licenses_are_not_evidence(tmp_path: Path) -> None:
    doc = _instance([])
    doc["disks"][0]["licenses"] = [
        "https://www.googleapis.com/compute/v1/projects/debian-cloud/global/licenses/debian-12"
    ]
    out = _audit(tmp_path, doc)
    assert "debian-12" not in json.dumps(_duty(out))


def test_a_license_beside_the_source_image_supports_it_and_adds_no_second_subject(tmp_path: Path) -> None:
    family = "https://www.googleapis.com/compute/v1/projects/deeplearning-platform-release/global/images/family/pytorch-2-1-cu121-ubuntu-2204-py310"
    doc = _audit(tmp_path, _instance(["deep-learning-vm"], source_image=family))
    fresh = [f for f in doc["findings"] if f["rule_id"] == "FRESH-DLVM-001"]
    assert len(fresh) == 1
    assert "unidentified" not in json.dumps(_duty(doc))
