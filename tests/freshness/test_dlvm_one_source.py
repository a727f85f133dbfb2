"""DLVM-001 (`config`) and the freshness rules (`audit`) judge a Deep Learning VM family from the same release
catalog records, so both commands agree; end to end through the CLI against a pinned scan clock."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from shareguard.cli.main import build_app

INSTANCE = """\
resource "google_compute_instance" "trainer" {{
  name         = "trainer"
  machine_type = "n1-standard-8"
  zone         = "us-central1-a"
  boot_disk {{
    initialize_params {{
      image = "projects/deeplearning-platform-release/global/images/family/{family}"
    }}
  }}
  network_interface {{
    network = "default"
  }}
}}
"""


@pytest.fixture(autouse=True)
def _pinned_now(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SHAREGUARD_NOW", "2026-12-03T12:00:00+00:00")


def _run(command: str, tmp_path: Path, family: str) -> dict[str, Any]:
    work = tmp_path / f"{command}-{family}"
    work.mkdir()
    (work / "main.tf").write_text(INSTANCE.format(family=family))
    result = CliRunner().invoke(
        build_app(), [command, str(work), "--format", "json", "--quiet"], catch_exceptions=False
    )
    doc: dict[str, Any] = json.loads(result.stdout)
    return doc


def _rules(doc: dict[str, Any]) -> dict[str, list[dict[str, Any]]]:
    out: dict[str, list[dict[str, Any]]] = {}
    for f in doc["findings"]:
        out.setdefault(f["rule_id"], []).append(f)
    return out


def _duty(doc: dict[str, Any]) -> str:
    return str(next(c for c in doc["controls"] if c["id"] == "DLVM-C-01")["status"])


def test_config_and_audit_agree_on_a_family_past_end_of_patch(tmp_path: Path) -> None:
    # The bundled catalog (google.yaml): PyTorch 2.1, GA 2023-10-04, end of patch 12 months later.
    family = "pytorch-2-1-cu121-ubuntu-2204-py310"
    config, audit = _run("config", tmp_path, family), _run("audit", tmp_path, family)
    (dlvm,) = _rules(config)["DLVM-001"]
    (fresh,) = _rules(audit)["FRESH-DLVM-001"]
    assert "DLVM-001" in _rules(audit)
    assert _duty(config) == _duty(audit) == "fail"
    text_config, text_audit = json.dumps(dlvm), json.dumps(fresh)
    assert "2024-10-04" in text_config and "2024-10-04" in text_audit  # the catalog's end-of-patch date, both
    newest = "pytorch-2-10-cu130-ubuntu-2204-py312"
    assert newest in text_config and newest in text_audit  # the same family to move to


def test_a_current_family_is_no_dlvm_001_in_either_command(tmp_path: Path) -> None:
    family = "pytorch-latest-gpu"  # tracks the newest image
    for command in ("config", "audit"):
        doc = _run(command, tmp_path, family)
        assert "DLVM-001" not in _rules(doc) and "FRESH-DLVM-001" not in _rules(doc)


def test_a_family_the_catalog_cannot_identify_is_not_a_pass(tmp_path: Path) -> None:
    doc = _run("config", tmp_path, "common-cu110-debian-10")
    assert "DLVM-001" not in _rules(doc)
    assert _duty(doc) != "pass"
