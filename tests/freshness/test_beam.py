"""Beam SDK / Dataflow support as release-catalog data: one table read by `catalog show --framework beam` and by
the configuration audit's DATAFLOW-005, end to end through the CLI, against an injected scan clock."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from shareguard.cli.main import build_app
from shareguard.core.errors import CatalogError
from shareguard.freshness import beam, store

# A table in the shape of data/beam.yaml, with status dates chosen for the test (test data, not Google's).
TABLE = """\
kind: beam-dataflow-sdk
source: https://cloud.google.com/dataflow/docs/support/sdk-version-support-status
retrieved: "2026-12-01"
support_months: 12
releases:
  - {version: "2.50.0", released: "2023-08-30", deprecated: "2024-08-30", decommissioned: "2025-08-30"}
  - {version: "2.60.0", released: "2024-10-17"}
  - {version: "2.70.0", released: "2026-06-01", deprecated: "2027-06-01"}
"""


@pytest.fixture(autouse=True)
def _pinned_now(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SHAREGUARD_NOW", "2026-12-03T12:00:00+00:00")


def cli(*args: str) -> Any:
    return CliRunner().invoke(build_app(), list(args), catch_exceptions=False)


def _import(tmp_path: Path) -> None:
    table = tmp_path / "beam.yaml"
    table.write_text(TABLE)
    assert cli("catalog", "update", "--from", str(table), "--quiet").exit_code == 0


def _config(tmp_path: Path, pin: str) -> dict[str, Any]:
    work = tmp_path / f"w{pin}"
    work.mkdir()
    (work / "requirements.txt").write_text(f"apache-beam[gcp]=={pin}\n")
    result = cli("config", str(work), "--format", "json", "--quiet")
    doc: dict[str, Any] = json.loads(result.stdout)
    return doc


def _sdk(doc: dict[str, Any]) -> tuple[list[dict[str, Any]], str]:
    found = [f for f in doc["findings"] if f["rule_id"] == "DATAFLOW-005"]
    status = next(c for c in doc["controls"] if c["id"] == "DATAFLOW-C-08")["status"]
    return found, status


def test_sdk_past_decommission_fails_and_names_the_version_to_move_to(tmp_path: Path) -> None:
    _import(tmp_path)
    found, status = _sdk(_config(tmp_path, "2.50.0"))
    assert status == "fail"
    assert len(found) == 1
    text = json.dumps(found[0])
    assert "DECOMMISSIONED" in text and "2025-08-30" in text and "2.70.0" in text


def test_sdk_past_derived_deprecation_fails(tmp_path: Path) -> None:
    _import(tmp_path)
    found, status = _sdk(_config(tmp_path, "2.60.0"))  # released 2024-10-17 + 12 months
    assert status == "fail" and "2025-10-17" in json.dumps(found[0])


def test_supported_sdk_passes(tmp_path: Path) -> None:
    _import(tmp_path)
    found, status = _sdk(_config(tmp_path, "2.70.0"))
    assert found == [] and status == "pass"


def test_unknown_sdk_is_unidentified_not_a_pass(tmp_path: Path) -> None:
    _import(tmp_path)
    found, status = _sdk(_config(tmp_path, "2.65.0"))
    assert found == [] and status != "pass"


def test_bundled_table_is_in_the_catalog_with_its_source(tmp_path: Path) -> None:
    result = cli("catalog", "show", "--framework", "beam", "--format", "json", "--quiet")
    doc = json.loads(result.stdout)
    beams = [r for r in doc["releases"] if r["framework"] == "beam"]
    assert {"2.48", "2.69"} <= {r["version"] for r in beams}
    assert all(r["product"] == "dataflow-sdk" for r in beams)
    assert any(s["name"] == "beam-dataflow-sdk" and "sdk-version-support-status" in s["url"] for s in doc["sources"])
    r = next(r for r in beams if r["version"] == "2.69")
    assert r["ga"] == "2025-10-21" and "eoa" not in r  # no decommission date verified: left empty
    table = cli("catalog", "show", "--framework", "beam").stdout
    assert "deprecated" in table


def test_beam_import_keeps_the_other_lines_and_vice_versa(tmp_path: Path) -> None:
    before = len([r for r in store.bundled().releases if r.framework != "beam"])
    _import(tmp_path)
    doc = json.loads(cli("catalog", "show", "--format", "json", "--quiet").stdout)
    assert len([r for r in doc["releases"] if r["framework"] != "beam"]) == before
    assert len([r for r in doc["releases"] if r["framework"] == "beam"]) == 3


@pytest.mark.parametrize(
    ("entry", "message"),
    [
        ('{version: "2.50.0", released: "2023-08-30", colour: red}', "unknown field"),
        ('{version: "2.50.0", released: "2023-02-30"}', "not a date"),
        ('{version: "2.50.0", released: "2023-08-30", deprecated: "2023-01-01"}', "impossible dates"),
        ('{version: "2.50.0", released: "2027-01-01"}', "impossible date"),
        ('{version: "two"}', "MAJOR.MINOR.PATCH"),
    ],
)
def test_bad_table_entries_are_named(entry: str, message: str) -> None:
    text = f'kind: beam-dataflow-sdk\nretrieved: "2026-12-01"\nreleases:\n  - {entry}\n'
    with pytest.raises(CatalogError) as err:
        beam.parse_table(text, "t.yaml")
    assert message in err.value.message and "releases[0]" in str(err.value.path)


def test_duplicate_entry_is_named() -> None:
    text = (
        'kind: beam-dataflow-sdk\nretrieved: "2026-12-01"\nreleases:\n  - {version: "2.1.0"}\n  - {version: "2.1.0"}\n'
    )
    with pytest.raises(CatalogError, match="duplicate"):
        beam.parse_table(text, "t.yaml")


def test_failed_update_keeps_the_previous_catalog(tmp_path: Path) -> None:
    _import(tmp_path)
    bad = tmp_path / "bad.yaml"
    bad.write_text(TABLE.replace('"2.70.0"', '"2.50.0"'))
    assert cli("catalog", "update", "--from", str(bad), "--quiet").exit_code != 0
    got = beam.sdk_support("2.70.0", store.load(_settings()), date(2026, 12, 3))
    assert got.status == "supported"


def test_older_than_the_table_is_deprecated_only_when_the_oldest_is() -> None:
    catalog = store.bundled()
    assert beam.sdk_support("1.9.1", catalog, date(2026, 12, 3)).status == "deprecated"
    assert beam.sdk_support("2.99.0", catalog, date(2026, 12, 3)).status == "unknown"
    assert beam.sdk_support("nope", catalog, date(2026, 12, 3)).status == "unknown"


def _settings() -> Any:
    from shareguard.core.settings import Settings

    return Settings.from_env()
