"""Catalog fixtures: custom catalog directories built in tmp_path from the real bundled framework lists."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from importlib import resources
from pathlib import Path

import pytest

BUNDLED = Path(str(resources.files("shareguard.catalog").joinpath("data")))

MINIMAL_SERVICE = """\
service: demo
name: Demo service
cloud: shared
source: https://example.invalid/shared-responsibility
controls:
- id: DEMO-P-01
  owner: provider
  title: Protect the infrastructure
- id: DEMO-C-01
  owner: customer
  title: Encrypt your data
  frameworks:
    nist-800-53-rev5: [SC-28]
    iso-27001-2022-annex-a: [A.8.24]
    cis-aws-foundations-7.0: ["3.1.1"]
"""

MakeCatalog = Callable[..., Path]


@pytest.fixture
def minimal_service() -> str:
    """A valid one-service catalog file mapping to real framework ids."""
    return MINIMAL_SERVICE


@pytest.fixture
def make_catalog(tmp_path: Path) -> MakeCatalog:
    """`make_catalog(**{"file.yaml": text})` → a catalog dir with the real frameworks and these service files."""

    def _make(**files: str | bytes) -> Path:
        root = tmp_path / "catalog"
        if root.exists():
            shutil.rmtree(root)
        shutil.copytree(BUNDLED / "frameworks", root / "frameworks")
        (root / "services").mkdir()
        for name, content in files.items():
            target = root / "services" / name
            if isinstance(content, bytes):
                target.write_bytes(content)
            else:
                target.write_text(content, encoding="utf-8")
        return root

    return _make
