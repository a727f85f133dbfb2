from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from inventory_harness import run_analyzer

from shareguard.core.facts import Package
from shareguard.image.analyzers.npm import NpmAnalyzer, is_package_manifest


def _scan(root: Path, prefix: str) -> list[Package]:
    a = NpmAnalyzer()
    out: list[Package] = []
    for manifest in root.rglob("package.json"):
        rel = prefix + str(manifest.relative_to(root))
        if a.required(rel, manifest.stat().st_size):
            out += [f for f in run_analyzer(a, rel, manifest.read_bytes(), None) if isinstance(f, Package)]
    return out


def test_real_npm_install(tmp_path: Path) -> None:
    if not shutil.which("npm"):
        pytest.skip("npm not installed")
    try:
        proc = subprocess.run(
            [
                "npm",
                "install",
                "--prefix",
                str(tmp_path),
                "is-number@7.0.0",
                "@types/node@20",
                "--no-audit",
                "--no-fund",
            ],
            capture_output=True,
            timeout=120,
        )
    except subprocess.TimeoutExpired:
        pytest.skip("npm registry too slow")
    if proc.returncode != 0:
        pytest.skip("npm registry not reachable")
    pkgs = {p.name: p for p in _scan(tmp_path, "app/")}
    assert pkgs["is-number"].version == "7.0.0" and pkgs["is-number"].licenses == ("MIT",)
    assert pkgs["is-number"].purl == "pkg:npm/is-number@7.0.0"
    assert pkgs["@types/node"].version.startswith("20.")
    assert pkgs["@types/node"].purl == f"pkg:npm/%40types/node@{pkgs['@types/node'].version}"
    assert "app/package.json" not in {p.path for p in pkgs.values()}  # the project itself is not a dependency


def test_real_global_node_modules() -> None:
    root = Path("/usr/lib/node_modules")
    if not (root / "npm" / "package.json").exists():
        pytest.skip("no global npm here")
    pkgs = _scan(root, "usr/lib/node_modules/")
    names = {p.name for p in pkgs}
    expected = json.loads((root / "npm" / "package.json").read_text())
    assert "npm" in names and any(p.name == "npm" and p.version == expected["version"] for p in pkgs)
    assert len(names) > 20


def test_manifest_positions() -> None:
    assert is_package_manifest("node_modules/a/package.json")
    assert is_package_manifest("app/node_modules/@s/a/package.json")
    assert is_package_manifest("app/node_modules/a/node_modules/b/package.json")
    assert not is_package_manifest("app/node_modules/a/lib/package.json")
    assert not is_package_manifest("app/node_modules/@s/package.json")
    assert not is_package_manifest("app/node_modules/.bin/package.json")
    assert not is_package_manifest("app/my_node_modules/a/package.json")
    assert not is_package_manifest("app/package.json")


@pytest.mark.parametrize(
    "content",
    [
        b"{}",
        b"[]",
        b'{"name": 1, "version": "1"}',
        b'{"name": "x"}',
        b"\xff{",
        b"[" * 100000,
        b'{"name":"a","version":""}',
    ],
)
def test_bad_manifests_give_nothing(content: bytes) -> None:
    assert run_analyzer(NpmAnalyzer(), "node_modules/a/package.json", content, None) == []


def test_legacy_license_forms() -> None:
    doc = b'{"name":"old","version":"0.1.0","licenses":[{"type":"MIT"},{"type":"Apache-2.0"}]}'
    [pkg] = run_analyzer(NpmAnalyzer(), "node_modules/old/package.json", doc, None)
    assert isinstance(pkg, Package) and pkg.licenses == ("MIT", "Apache-2.0")
    [pkg] = run_analyzer(
        NpmAnalyzer(), "node_modules/o/package.json", b'{"name":"o","version":"1","license":{"type":"ISC"}}', None
    )
    assert isinstance(pkg, Package) and pkg.licenses == ("ISC",)


@settings(deadline=None)
@given(st.binary(max_size=1000))
def test_fuzz(content: bytes) -> None:
    assert all(
        isinstance(f, Package) for f in run_analyzer(NpmAnalyzer(), "node_modules/a/package.json", content, None)
    )
