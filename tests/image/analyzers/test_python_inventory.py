from __future__ import annotations

import importlib.metadata
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from inventory_harness import extra, inventory, packages, run_analyzer
from packaging.utils import canonicalize_name

from shareguard.core.facts import Package
from shareguard.image.analyzers.python import PythonAnalyzer
from shareguard.image.facts import PythonInstaller


def _rel(path: Path) -> str:
    return str(path).lstrip("/")


def _installed_dists() -> list[importlib.metadata.Distribution]:
    return [d for d in importlib.metadata.distributions() if isinstance(d, importlib.metadata.PathDistribution)]


def test_every_real_dist_info_of_this_interpreter() -> None:
    a = PythonAnalyzer()
    checked = 0
    for dist in _installed_dists():
        meta_dir = Path(str(dist._path))  # type: ignore[attr-defined]
        meta = meta_dir / ("METADATA" if meta_dir.name.endswith(".dist-info") else "PKG-INFO")
        if not meta.is_file():
            continue
        path = _rel(meta)
        assert a.required(path, meta.stat().st_size), path
        [pkg] = run_analyzer(a, path, meta.read_bytes(), None)
        assert isinstance(pkg, Package)
        assert pkg.name == canonicalize_name(dist.metadata["Name"]) and pkg.version == dist.version
        assert pkg.ecosystem == "PyPI" and pkg.purl == f"pkg:pypi/{pkg.name}@{pkg.version.replace('+', '%2B')}"
        checked += 1
    assert checked >= 20


def test_real_installer_files() -> None:
    dist = importlib.metadata.distribution("pyyaml")
    installer = Path(str(dist._path)) / "INSTALLER"  # type: ignore[attr-defined]
    if not installer.exists():
        pytest.skip("no INSTALLER file")
    [fact] = run_analyzer(PythonAnalyzer(), _rel(installer), installer.read_bytes(), None)
    assert isinstance(fact, PythonInstaller) and fact.installer == installer.read_text().strip()


def test_real_debian_egg_info_file_and_dir() -> None:
    root = Path("/usr/lib/python3/dist-packages")
    egg_files = [p for p in root.glob("*.egg-info") if p.is_file()] if root.is_dir() else []
    egg_dirs = [p / "PKG-INFO" for p in root.glob("*.egg-info") if (p / "PKG-INFO").is_file()] if root.is_dir() else []
    if not egg_files and not egg_dirs:
        pytest.skip("no Debian egg-info here")
    for meta in (egg_files + egg_dirs)[:10]:
        [pkg] = run_analyzer(PythonAnalyzer(), _rel(meta), meta.read_bytes(), None)
        assert isinstance(pkg, Package) and pkg.os_managed and pkg.version[0].isdigit()


def test_local_version_license_and_os_location() -> None:
    meta = (
        b"Metadata-Version: 2.1\nName: torch\nVersion: 2.3.0+cu121\nLicense: BSD-3\n"
        b"Classifier: License :: OSI Approved :: BSD License\n\nlong description\n"
    )
    [pkg] = run_analyzer(
        PythonAnalyzer(), "usr/local/lib/python3.10/dist-packages/torch-2.3.0+cu121.dist-info/METADATA", meta, None
    )
    assert isinstance(pkg, Package)
    assert (pkg.name, pkg.version, pkg.licenses, pkg.os_managed) == ("torch", "2.3.0+cu121", ("BSD-3",), False)
    assert pkg.purl == "pkg:pypi/torch@2.3.0%2Bcu121"
    [deb] = run_analyzer(
        PythonAnalyzer(), "usr/lib/python3/dist-packages/six-1.16.0.egg-info", b"Name: six\nVersion: 1.16.0\n", None
    )
    assert isinstance(deb, Package) and deb.os_managed
    expr = b"Name: Foo.Bar_baz\nVersion: 1.0\nLicense-Expression: Apache-2.0 OR MIT\nLicense: long\n"
    [foo] = run_analyzer(
        PythonAnalyzer(), "app/.venv/lib/python3.12/site-packages/foo_bar_baz-1.0.dist-info/METADATA", expr, None
    )
    assert isinstance(foo, Package) and foo.name == "foo-bar-baz" and foo.licenses == ("Apache-2.0 OR MIT",)
    assert extra(foo)["declared_name"] == "Foo.Bar_baz"


def test_invalid_utf8_metadata_and_missing_headers() -> None:
    bad = b"Metadata-Version: 2.1\nName: caf\xe9-lib\nVersion: 1.0\xff\nAuthor: \x80\x81\n"
    [pkg] = run_analyzer(PythonAnalyzer(), "site-packages/cafe_lib-1.0.dist-info/METADATA", bad, None)
    assert isinstance(pkg, Package) and pkg.name == "café-lib"
    # no headers at all: name and version come from the directory name
    [pkg] = run_analyzer(PythonAnalyzer(), "site-packages/PyYAML-6.0.dist-info/METADATA", b"\n\n", None)
    assert isinstance(pkg, Package) and (pkg.name, pkg.version) == ("pyyaml", "6.0")


def test_required_paths() -> None:
    a = PythonAnalyzer()
    yes = [
        "usr/lib/python3/dist-packages/PyYAML-6.0.dist-info/METADATA",
        "opt/conda/lib/python3.11/site-packages/numpy-1.26.4.dist-info/INSTALLER",
        "usr/lib/python3/dist-packages/dbus_python-1.3.2.egg-info",
        "usr/lib/python3/dist-packages/PyGObject-3.42.2.egg-info/PKG-INFO",
        "usr/lib/python2.7/site-packages/foo-1.0-py2.7.egg/EGG-INFO/PKG-INFO",
    ]
    no = [
        "usr/share/doc/METADATA",
        "usr/lib/python3/dist-packages/PyYAML-6.0.dist-info/RECORD",
        "usr/src/pkg/PKG-INFO",
        "x/INSTALLER",
        "usr/lib/python3/dist-packages/yaml/__init__.py",
    ]
    assert all(a.required(p, 1000) for p in yes) and not any(a.required(p, 1000) for p in no)
    assert a.required(yes[0], 10**9) and a.max_bytes(yes[0]) == 16 * 1024 * 1024  # over it: reported (#14)


def test_pip_and_conda_installer_recorded() -> None:
    facts = inventory(
        {
            "usr/local/lib/python3.11/site-packages/requests-2.31.0.dist-info/METADATA": b"Name: requests\nVersion: 2.31.0\n",
            "usr/local/lib/python3.11/site-packages/requests-2.31.0.dist-info/INSTALLER": b"uv\n",
        }
    )
    [pkg] = packages(facts)
    assert extra(pkg)["installer"] == "uv"


@settings(deadline=None)
@given(st.binary(max_size=2000))
def test_fuzz_metadata(content: bytes) -> None:
    for path in ("a/x-1.dist-info/METADATA", "a/x-1.egg-info", "a/x-1.dist-info/INSTALLER"):
        for fact in run_analyzer(PythonAnalyzer(), path, content, None):
            assert isinstance(fact, Package | PythonInstaller)


def test_body_is_not_read_as_headers() -> None:
    meta = b"Metadata-Version: 2.1\r\nName: real\r\nVersion: 1.0\r\n\r\nName: fake\nVersion: 9.9\n"
    [pkg] = run_analyzer(PythonAnalyzer(), "s/real-1.0.dist-info/METADATA", meta, None)
    assert isinstance(pkg, Package) and (pkg.name, pkg.version) == ("real", "1.0")
