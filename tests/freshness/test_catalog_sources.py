"""Release catalog sources: the AWS DLC per-release YAML as published, the Google image table, the local store.
Malformed files, impossible dates, unknown fields and duplicate entries are one error naming file and entry;
an update that fails leaves the previous data in place."""

from __future__ import annotations

import contextlib
import io
import json
import re
import shutil
import tarfile
from datetime import date
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from shareguard.cli.main import build_app
from shareguard.core.errors import CatalogError, ShareguardError
from shareguard.core.settings import Settings
from shareguard.freshness import aws_dlc, google, store
from shareguard.freshness.update import update

DATA = Path(__file__).resolve().parents[1] / "data" / "dlc-catalog"
SHARED = Path(__file__).resolve().parents[3] / "shared" / "data" / "dlc-catalog" / "aws" / "docs" / "src" / "data"
GOOGLE = Path(__file__).resolve().parents[2] / "src" / "shareguard" / "freshness" / "data" / "google.yaml"
RELEASE = """framework: PyTorch
version: "2.6"
accelerator: gpu
python: py312
cuda: cu126
os: ubuntu22.04
platform: sagemaker
ga: "2025-01-29"
eop: "2026-01-29"
tags:
  - "2.6.0-gpu-py312-cu126-ubuntu22.04-sagemaker"
"""


def cli(*args: str) -> tuple[int, str, str]:
    r = CliRunner().invoke(build_app(), list(args), catch_exceptions=False)
    return r.exit_code, r.stdout, r.stderr


def test_committed_real_release_files_import_as_published() -> None:
    releases = {r.version: r for r in aws_dlc.import_directory(DATA)}
    r = releases["2.6"]
    assert (r.repository, r.framework, r.accelerator, r.platform, r.container_type) == (
        "pytorch-training",
        "pytorch",
        "gpu",
        "sagemaker",
        "training",
    )
    assert (r.ga, r.eop) == (date(2025, 1, 29), date(2026, 1, 29))
    assert r.tags[0] == "2.6.0-gpu-py312-cu126-ubuntu22.04-sagemaker"


@pytest.mark.skipif(not SHARED.is_dir(), reason="the AWS DLC corpus in ../shared is not present")
def test_the_whole_published_corpus_imports_and_matches_the_bundled_snapshot() -> None:
    releases = aws_dlc.import_directory(SHARED)
    assert len(releases) == 267
    bundled = {(r.repository, r.tags[0]) for r in store.bundled().releases if r.provider == "aws"}
    assert bundled == {(r.repository, r.tags[0]) for r in releases}


def _tree(tmp_path: Path, files: dict[str, str]) -> Path:
    root = tmp_path / "data"
    for rel, text in files.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(text)
    return root


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (RELEASE.replace('eop: "2026-01-29"', 'eop: "2024-01-29"'), "impossible dates"),
        (RELEASE.replace('ga: "2025-01-29"', 'ga: "2025-02-30"'), "not a date"),
        (RELEASE + "colour: blue\n", "unknown field(s) colour"),
        (RELEASE.replace("accelerator: gpu\n", ""), "missing field(s) accelerator"),
        ("framework: [unclosed\n", "pytorch-training/2.6-gpu-sagemaker.yml"),
        ("- just\n- a list\n", "expected a mapping"),
        (RELEASE.replace('tags:\n  - "2.6.0', 'tags:\n  - 7\n  - "2.6.0'), "tags"),
    ],
)
def test_bad_release_files_name_the_file_and_the_problem(tmp_path: Path, text: str, message: str) -> None:
    root = _tree(tmp_path, {"pytorch-training/2.6-gpu-sagemaker.yml": text})
    with pytest.raises(ShareguardError) as exc:
        aws_dlc.import_directory(root)
    line = exc.value.one_line()
    assert message in line and "2.6-gpu-sagemaker.yml" in line


def test_duplicate_release_entries_are_refused(tmp_path: Path) -> None:
    root = _tree(
        tmp_path,
        {"pytorch-training/2.6-gpu-sagemaker.yml": RELEASE, "pytorch-training/2.6-gpu-sagemaker-copy.yml": RELEASE},
    )
    with pytest.raises(CatalogError, match=re.escape("duplicate entry: pytorch-training 2.6.0-gpu-py312")):
        aws_dlc.import_directory(root)


def test_floating_tags_shared_by_releases_are_no_duplicates(tmp_path: Path) -> None:
    newer = RELEASE.replace('"2.6.0-gpu', '"2.6.1-gpu').replace('version: "2.6"', 'version: "2.6.1"')
    root = _tree(
        tmp_path,
        {
            "x-training/2.6.0-gpu-sagemaker.yml": RELEASE + '  - "2.6-gpu-py312"\n',
            "x-training/2.6.1-gpu-sagemaker.yml": newer + '  - "2.6-gpu-py312"\n',
        },
    )
    assert len(aws_dlc.import_directory(root)) == 2


def _targz(files: dict[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as tf:
        for name, data in files.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tf.addfile(info, io.BytesIO(data))
    return buf.getvalue()


def test_repository_archive_imports_and_damaged_archives_are_one_error(tmp_path: Path) -> None:
    files = {
        f"deep-learning-containers-master/docs/src/data/pytorch-training/{p.name}": p.read_bytes()
        for p in (DATA / "pytorch-training").glob("*.yml")
    }
    files["deep-learning-containers-master/docs/src/data/template/image-template.yml"] = b"framework: X\n"
    data = _targz(files)
    assert {r.version for r in aws_dlc.import_archive(data, "dlc.tar.gz")} == {"2.6", "2.10"}
    with pytest.raises(CatalogError, match="truncated or damaged") as exc:
        aws_dlc.import_archive(data[: len(data) // 2], "dlc.tar.gz")
    assert exc.value.one_line().startswith("dlc.tar.gz: ")
    with pytest.raises(CatalogError, match="not a readable tar archive"):
        aws_dlc.import_archive(b"\x1f\x8bnot gzip at all", "x.tar.gz")
    big = {"r/docs/src/data/a-training/1.0-cpu-ec2.yml": b"#" * (aws_dlc.MAX_FILE_BYTES + 1)}
    with pytest.raises(CatalogError, match="budget"):
        aws_dlc.import_archive(_targz(big), "big.tar.gz")


@settings(max_examples=150, deadline=None)
@given(st.text(max_size=400))
def test_fuzz_release_files_only_ever_raise_user_errors(text: str) -> None:
    with contextlib.suppress(ShareguardError):
        aws_dlc.parse_release("pytorch-training", text, "fuzz.yml")


def test_google_table_bad_input_is_one_error_naming_the_entry(tmp_path: Path) -> None:
    good = GOOGLE.read_text()
    source, releases = google.parse_table(good, "google.yaml")
    assert source.url.startswith("https://cloud.google.com/") and source.retrieved
    wb = [r for r in releases if r.product == "workbench" and r.framework == "pytorch" and r.version == "2.6"]
    assert wb and all((r.eop - r.ga).days > 700 for r in wb if r.eop and r.ga)  # Workbench: two years
    dup = good + '  - {framework: pytorch, version: "2.6", ga: "2025-01-29", accelerators: [cpu]}\n'
    with pytest.raises(CatalogError, match=re.escape("duplicate entry: pytorch 2.6")) as exc:
        google.parse_table(dup, "google.yaml")
    assert exc.value.one_line().startswith("google.yaml: lines[")
    with pytest.raises(CatalogError, match="unknown field"):
        google.parse_table(good.replace("python: py310}", "python: py310, colour: red}", 1), "google.yaml")
    with pytest.raises(CatalogError, match="impossible"):
        google.parse_table(
            good.replace("patch_months: 12, availability_months: 24", "patch_months: 12, availability_months: 6", 1),
            "google.yaml",
        )
    with pytest.raises(CatalogError, match="impossible date"):
        google.parse_table(good.replace('ga: "2026-07-10"', 'ga: "2099-07-10"'), "google.yaml")


@settings(max_examples=100, deadline=None)
@given(st.text(max_size=300))
def test_fuzz_store_documents_only_ever_raise_user_errors(text: str) -> None:
    with contextlib.suppress(ShareguardError):
        store.decode(text, "fuzz.json")


def test_update_merges_sources_and_a_failing_source_leaves_the_previous_catalog(tmp_path: Path) -> None:
    settings_ = Settings(cache_dir=tmp_path / "cache")
    catalog, imported = update(str(DATA), settings_, date(2026, 12, 3))
    assert imported.source.name == "aws-dlc" and len(imported.releases) == 2
    assert any(r.provider == "google" for r in catalog.releases)  # the bundled Google table is kept
    before = store.local_path(settings_).read_bytes()
    bad = _tree(tmp_path, {"pytorch-training/2.6-gpu-sagemaker.yml": RELEASE.replace("eop", "eol")})
    with pytest.raises(CatalogError):
        update(str(bad), settings_, date(2026, 12, 3))
    assert store.local_path(settings_).read_bytes() == before
    with pytest.raises(CatalogError, match="cannot fetch"):
        update("http://127.0.0.1:9/nothing.tar.gz", settings_, date(2026, 12, 3))
    assert store.local_path(settings_).read_bytes() == before


def test_catalog_cli_update_show_and_staleness(tmp_path: Path) -> None:
    code, _, err = cli("catalog", "update", "--from", str(DATA))
    assert code == 0 and "imported 2 releases" in err.replace("\n", " ")
    code, out, _ = cli("catalog", "show", "--framework", "PyTorch", "--format", "json")
    doc = json.loads(out)
    assert {r["provider"] for r in doc["releases"]} == {"aws", "google"}
    assert all(r["framework"] == "pytorch" for r in doc["releases"])
    code, _, err = cli("catalog", "update", "--from", str(tmp_path / "missing"))
    assert code == 2 and "left in place" in err
    assert store.staleness_warning(store.bundled(), date(2027, 6, 1)) is not None
    assert store.staleness_warning(store.bundled(), store.bundled().oldest_retrieval() or date.today()) is None


def test_bundled_snapshot_names_its_sources() -> None:
    cat = store.bundled()
    names = {s.name: s for s in cat.sources}
    assert names["aws-dlc"].license == "Apache-2.0" and "e0ecedea" in names["aws-dlc"].revision
    assert names["google-dl-images"].url.startswith("https://cloud.google.com/")


def test_template_directory_is_no_release(tmp_path: Path) -> None:
    root = tmp_path / "data"
    shutil.copytree(DATA, root)
    (root / "template").mkdir()
    (root / "template" / "image-template.yml").write_text("framework: PyTorch\n")
    assert len(aws_dlc.import_directory(root)) == 2
