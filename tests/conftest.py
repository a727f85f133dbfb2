"""Shared test settings: the committed test data, and the one path to the large public corpora beside
the project (skipped cleanly if absent)."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest
from hypothesis import settings

# CI runs every property and fuzz test on the same derived examples: a submission must not fail on a
# crash a random draw happened to find that day (run `python -m pytest -k fuzz` without CI=true, or
# raise max_examples, for a fresh campaign; crashes found that way become explicit regression tests).
settings.register_profile("ci", derandomize=True, print_blob=True)
if os.environ.get("CI"):
    settings.load_profile("ci")

ROOT = Path(__file__).resolve().parents[1]
TEST_DATA = ROOT / "tests" / "data"
"""Small public data committed with the tests (official schemas, real advisories, samples): never skipped."""
SHARED_DATA = Path(os.environ.get("SHAREGUARD_SHARED_DATA", ROOT.parent / "shared" / "data"))


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """`../shared/data` (or $SHAREGUARD_SHARED_DATA): large corpora only (the whole PyPA advisory
    database, the upstream framework extraction); the test is skipped when it is absent."""
    if not SHARED_DATA.is_dir():
        pytest.skip(f"shared data not found at {SHARED_DATA}")
    return SHARED_DATA


@pytest.fixture(scope="session")
def sarif_schema() -> dict[str, Any]:
    """The official SARIF 2.1.0 JSON schema (OASIS, Errata 01), committed in tests/data/schemas."""
    doc: dict[str, Any] = json.loads((TEST_DATA / "schemas" / "sarif-schema-2.1.0.json").read_text(encoding="utf-8"))
    return doc


@pytest.fixture(scope="session")
def pypa_subset() -> Path:
    """Real PyPA advisories (torch, pyyaml) in the upstream layout: LICENSE, SNAPSHOT, vulns/<package>/*.yaml."""
    return TEST_DATA / "osv" / "pypa-advisory-database"


@pytest.fixture(scope="session")
def picklescan_samples() -> Path:
    """picklescan's own benign and malicious samples (hostile: never load them)."""
    return TEST_DATA / "picklescan" / "samples"


@pytest.fixture(autouse=True)
def _isolated_cache(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    """No test writes to the user's cache."""
    monkeypatch.setenv("SHAREGUARD_CACHE_DIR", str(tmp_path_factory.mktemp("cache")))
