"""Vulnerability test fixtures: the real PyPA advisory database imported once per session."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from tests.vuln.osv_fixtures import pypa_vulns

from shareguard.vuln.importer import import_path
from shareguard.vuln.store import VulnStore


@pytest.fixture(scope="session")
def pypa_store_path(shared_data: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The real PyPA advisories imported once per test session."""
    path = tmp_path_factory.mktemp("pypa") / "vuln.sqlite"
    with VulnStore(path, create=True) as store:
        report = import_path(store, pypa_vulns(shared_data))
    assert report.imported > 2000 and not report.rejected
    return path


@pytest.fixture
def pypa_store(pypa_store_path: Path) -> Iterator[VulnStore]:
    with VulnStore(pypa_store_path) as store:
        yield store
