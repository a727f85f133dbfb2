"""`shareguard models` end to end through the spine's reporters."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from shareguard.cli.main import build_app

from .corpus import bypass_samples, write_benign


@pytest.fixture()
def corpus(tmp_path: Path) -> Path:
    d = tmp_path / "corpus"
    d.mkdir()
    for name, (data, _) in bypass_samples(tmp_path / "m").items():
        (d / name).write_bytes(data)
    return d


def test_json_report_and_exit_code(corpus: Path) -> None:
    res = CliRunner().invoke(build_app(), ["models", str(corpus), "--format", "json", "-q", "--exit-code", "5"])
    assert res.exit_code == 5, res.output
    doc = json.loads(res.stdout)
    assert doc["command"] == "models"
    assert any(f["rule_id"] == "MODEL-001" and f["location"].get("offset") is not None for f in doc["findings"])


def test_benign_directory_exits_zero(tmp_path: Path) -> None:
    write_benign(tmp_path)
    res = CliRunner().invoke(build_app(), ["models", str(tmp_path), "--format", "json", "-q", "--exit-code", "5"])
    assert res.exit_code == 0, res.output


def test_sarif(corpus: Path, sarif_schema: dict[str, object]) -> None:
    from shareguard.core.registry import load_registries
    from shareguard.report.interface import Reporter

    if "sarif" not in load_registries().of(Reporter):  # type: ignore[type-abstract]
        pytest.skip("sarif reporter not registered yet")
    res = CliRunner().invoke(build_app(), ["models", str(corpus), "--format", "sarif", "-q"])
    assert res.exit_code == 0, res.output
    doc = json.loads(res.stdout)
    jsonschema = pytest.importorskip("jsonschema")
    jsonschema.validate(doc, sarif_schema)
    results = doc["runs"][0]["results"]
    assert any(r["ruleId"] == "MODEL-001" for r in results)


def test_missing_path_is_one_line_error(tmp_path: Path) -> None:
    res = CliRunner().invoke(build_app(), ["models", str(tmp_path / "nope")])
    assert res.exit_code == 2
