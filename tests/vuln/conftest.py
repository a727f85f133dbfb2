"""Vulnerability test fixtures: real PyPA advisories imported once per session."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from tests.vuln.osv_fixtures import bundled_pypa_advisories

from shareguard.vuln.importer import import_path
from shareguard.vuln.store import VulnStore


@pytest.fixture(scope="session")
def pypa_store_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The real PyPA advisories of the bundled snapshot (torch, tensorflow, pyyaml… as upstream published
    them), imported once per test session as a user's `db update` would (dated now, not stale)."""
    tmp = tmp_path_factory.mktemp("pypa")
    path = tmp / "vuln.sqlite"
    with VulnStore(path, create=True) as store:
        report = import_path(store, bundled_pypa_advisories(tmp / "osv"))
    assert report.imported > 1000 and not report.rejected
    return path


@pytest.fixture
def pypa_store(pypa_store_path: Path) -> Iterator[VulnStore]:
    with VulnStore(pypa_store_path) as store:
        yield store
