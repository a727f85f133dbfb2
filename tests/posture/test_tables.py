"""Posture data tables with an update command (`posture/tables.py`): the EKS release calendar and the Dataflow
data. `catalog update --from FILE|DIR|URL` validates a table and writes it to the cache (never the package); the
checks prefer it to the bundled snapshot; a malformed or hostile table is refused with one line and the current
copy stays in place."""

from __future__ import annotations

import contextlib
import http.server
import threading
from collections.abc import Iterator
from datetime import date
from importlib import resources
from pathlib import Path

import pytest
from cloud_helpers import scan
from hypothesis import given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from shareguard.cli.main import build_app
from shareguard.core.errors import CatalogError, ShareguardError
from shareguard.core.result import ScanResult
from shareguard.core.settings import Settings
from shareguard.freshness.update import update
from shareguard.posture import tables

PACKAGE_DATA = Path(str(resources.files("shareguard.posture").joinpath("data")))
EKS = (PACKAGE_DATA / "eks_versions.yaml").read_text(encoding="utf-8")
DATAFLOW = (PACKAGE_DATA / "dataflow.yaml").read_text(encoding="utf-8")
NEW_ROW = '  "1.36": {eks_release: "2026-06-10", end_of_standard_support: "2027-08-10", end_of_extended_support: "2028-08-10"}\n'
EKS_136 = EKS.replace("versions:\n", "versions:\n" + NEW_ROW).replace(
    'retrieved: "2026-12-03"', 'retrieved: "2026-12-20"'
)
DATAFLOW_MORE = DATAFLOW.replace(
    "deprecated_experiments:\n",
    "deprecated_experiments:\n  use_legacy_worker:\n    reason: an example deprecation\n"
    "    reference: https://cloud.google.com/dataflow/docs/guides/deploying-a-pipeline\n",
).replace('retrieved: "2026-11-23"', 'retrieved: "2026-12-21"')
CLUSTER = """resource "aws_eks_cluster" "ml" {
  name     = "ml"
  role_arn = "arn:aws:iam::123456789012:role/eks"
  version  = "1.36"
  vpc_config {
    subnet_ids = ["subnet-1"]
  }
}
"""
JOB = """resource "google_dataflow_job" "etl" {
  name                   = "etl"
  template_gcs_path      = "gs://dataflow-templates/latest/Word_Count"
  temp_gcs_location      = "gs://my-bucket/tmp"
  additional_experiments = ["use_legacy_worker"]
}
"""


def cli(*args: str) -> tuple[int, str]:
    r = CliRunner().invoke(build_app(), list(args), catch_exceptions=False)
    return r.exit_code, r.stdout + r.stderr


def _gaps(result: ScanResult) -> list[str]:
    return [g.reason for d in result.coverage.duties.values() for g in d.gaps]


def _env() -> Settings:
    return Settings.from_env()  # the per-test cache of tests/conftest.py


def test_bundled_snapshots_validate_and_name_their_date() -> None:
    eks, dataflow = tables.bundled("eks_versions"), tables.bundled("dataflow")
    assert eks.origin == dataflow.origin == tables.BUNDLED
    assert eks.retrieved == date(2026, 12, 3) and eks.entries >= 6
    assert (
        dataflow.retrieved == date(2026, 11, 23)
        and "enable_stackdriver_agent_metrics" in dataflow.doc["deprecated_experiments"]
    )
    assert tables.load("eks_versions", _env()) is eks  # nothing updated: the snapshot


def test_update_from_a_file_is_preferred_by_the_eks_check(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SHAREGUARD_NOW", "2026-12-21T00:00:00Z")
    (tmp_path / "main.tf").write_text(CLUSTER)
    before = scan(tmp_path)
    assert any("not in the bundled EKS calendar (retrieved 2026-12-03)" in g for g in _gaps(before))
    (tmp_path / "eks.yaml").write_text(EKS_136)
    code, out = cli("catalog", "update", "--from", str(tmp_path / "eks.yaml"))
    out = " ".join(out.split())
    assert code == 0 and "imported the EKS release calendar (8 entries, retrieved 2026-12-20)" in out
    assert "bundled snapshot (retrieved 2026-12-03)" in out
    local = tables.local_path("eks_versions", _env())
    assert local.read_text(encoding="utf-8") == EKS_136 and local.is_relative_to(_env().cache_dir)
    assert (PACKAGE_DATA / "eks_versions.yaml").read_text(encoding="utf-8") == EKS  # never the package
    after = scan(tmp_path)
    assert not any("EKS-004" in g for g in _gaps(after))
    assert "EKS-004" in after.coverage.duties["KUBERNETES-C-05"].rules  # evaluated: 1.36 is supported
    assert not [f for f in after.findings if f.rule_id == "EKS-004"]
    code, out = cli("catalog", "show")
    assert "posture table eks_versions (EKS release calendar): " in out and "retrieved 2026-12-20" in out
    assert "bundled snapshot retrieved 2026-12-03" in " ".join(out.split())


@contextlib.contextmanager
def _serve(folder: Path) -> Iterator[str]:
    """A local HTTP server on 127.0.0.1 serving `folder`."""

    class Quiet(http.server.SimpleHTTPRequestHandler):
        def __init__(self, *args: object, **kwargs: object) -> None:
            super().__init__(*args, directory=str(folder), **kwargs)  # type: ignore[arg-type]

        def log_message(self, format: str, *args: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Quiet)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def test_update_from_a_url_feeds_the_dataflow_checks(tmp_path: Path) -> None:
    (tmp_path / "job").mkdir()
    (tmp_path / "job" / "main.tf").write_text(JOB)
    assert not [f for f in scan(tmp_path / "job").findings if f.rule_id == "DATAFLOW-004"]
    (tmp_path / "www").mkdir()
    (tmp_path / "www" / "dataflow.yaml").write_text(DATAFLOW_MORE)
    with _serve(tmp_path / "www") as base:
        _, imported = update(f"{base}/dataflow.yaml", _env(), date(2026, 12, 21))
    assert [t.name for t in imported.posture_tables] == ["dataflow"]
    assert tables.load("dataflow", _env()).retrieved == date(2026, 12, 21)
    [f] = [f for f in scan(tmp_path / "job").findings if f.rule_id == "DATAFLOW-004"]
    assert "use_legacy_worker" in f.title


def test_update_from_a_folder_of_tables(tmp_path: Path) -> None:
    (tmp_path / "eks_versions.yaml").write_text(EKS_136)
    (tmp_path / "dataflow.yaml").write_text(DATAFLOW_MORE)
    (tmp_path / "notes.yaml").write_text("something: else\n")
    _, imported = update(str(tmp_path), _env(), date(2026, 12, 21))
    assert sorted(t.name for t in imported.posture_tables) == ["dataflow", "eks_versions"]
    assert tables.load("eks_versions", _env()).entries == 8


HOSTILE = {
    "not a mapping": "kind: eks-release-calendar\n- a\n",
    "a list": "- kind: eks-release-calendar\n",
    "missing fields": "kind: eks-release-calendar\nversions: {}\n",
    "unknown field": EKS.replace("versions:", "extra: 1\nversions:"),
    "bad date": EKS.replace('"2026-12-02"', '"2026-13-02"'),
    "reversed support dates": EKS.replace(
        'end_of_extended_support: "2027-12-02"', 'end_of_extended_support: "2025-01-01"'
    ),
    "bad version key": EKS.replace('"1.34":', '"latest":'),
    "python tag": "kind: dataflow-data\nsource: !!python/object/apply:os.system ['touch /tmp/x']\n",
    "alias bomb": "kind: dataflow-data\na: &a [x, x, x, x, x, x, x, x, x]\n"
    + "".join(
        f"{chr(98 + i)}: &{chr(98 + i)} [*{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}]\n"
        for i in range(12)
    ),
    "deep nesting": "kind: dataflow-data\nx: " + "[" * 500 + "]" * 500 + "\n",
    "too large": "kind: dataflow-data\n" + "# padding\n" * 120_000,
    "negative limit": DATAFLOW.replace("long_running_days: 30", "long_running_days: -1"),
    "not yaml": "kind: dataflow-data\n\t{: [\n",
}


@pytest.mark.parametrize("name", sorted(HOSTILE))
def test_malformed_or_hostile_tables_are_refused_and_the_current_copy_stays(name: str, tmp_path: Path) -> None:
    (tmp_path / "good.yaml").write_text(EKS_136)
    update(str(tmp_path / "good.yaml"), _env(), date(2026, 12, 21))
    eks, dataflow = tables.local_path("eks_versions", _env()), tables.local_path("dataflow", _env())
    before = eks.read_bytes()
    bad = tmp_path / "bad.yaml"
    bad.write_text(HOSTILE[name])
    with pytest.raises(CatalogError):
        update(str(bad), _env(), date(2026, 12, 21))
    code, out = cli("catalog", "update", "--from", str(bad))
    assert code == 2 and str(bad) in out and "left in place" in out
    assert len([line for line in out.splitlines() if line.startswith("error")]) == 1
    assert eks.read_bytes() == before and not dataflow.exists()


def test_a_folder_with_one_bad_table_imports_none(tmp_path: Path) -> None:
    (tmp_path / "eks_versions.yaml").write_text(EKS_136)
    (tmp_path / "dataflow.yaml").write_text(HOSTILE["negative limit"])
    with pytest.raises(CatalogError, match="long_running_days"):
        update(str(tmp_path), _env(), date(2026, 12, 21))
    assert not tables.local_path("eks_versions", _env()).exists()


def test_an_updated_copy_that_no_longer_validates_leaves_the_duty_incomplete(tmp_path: Path) -> None:
    local = tables.local_path("eks_versions", _env())
    local.parent.mkdir(parents=True)
    local.write_text("kind: eks-release-calendar\nversions: oops\n")
    (tmp_path / "main.tf").write_text(CLUSTER)
    result = scan(tmp_path)
    assert any(f"the updated EKS release calendar is not valid: {local}" in i.message for i in result.issues)
    assert result.coverage.duties["KUBERNETES-C-05"].gaps  # never a pass, never the snapshot behind its back


@settings(max_examples=60, deadline=None)
@given(st.text(max_size=400))
def test_fuzz_tables_only_ever_raise_user_errors(body: str) -> None:
    for kind in ("eks-release-calendar", "dataflow-data"):
        with contextlib.suppress(ShareguardError):
            tables.parse(f"kind: {kind}\n{body}", "fuzz.yaml")
