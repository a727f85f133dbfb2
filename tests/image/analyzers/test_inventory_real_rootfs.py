"""The inventory over this machine's real metadata directories (the `shareguard rootfs /` case)."""

from __future__ import annotations

import importlib.metadata
import site
from pathlib import Path

import pytest
from inventory_harness import packages, walk_real

from shareguard.core.facts import OSInfo
from shareguard.image.facts import OwnedFiles


@pytest.fixture(scope="module")
def real_facts() -> list[object]:
    roots = ["/etc/os-release", "/usr/lib/os-release", "/etc/apt", "/var/lib/dpkg", "/usr/lib/python3"]
    roots += [p for p in site.getsitepackages() if Path(p).is_dir()]
    return list(walk_real([r for r in roots if Path(r).exists()]))


def test_os_is_found(real_facts: list[object]) -> None:
    if not Path("/etc/os-release").exists():
        pytest.skip("no os-release")
    [info] = [f for f in real_facts if isinstance(f, OSInfo)]
    assert info.id and info.pretty_name


def test_dpkg_packages_with_sane_versions(real_facts: list[object]) -> None:
    if not Path("/var/lib/dpkg/status").exists():
        pytest.skip("not a dpkg system")
    os_pkgs = {p.name: p for p in packages(real_facts) if p.path == "var/lib/dpkg/status"}  # type: ignore[arg-type]
    assert len(os_pkgs) > 50
    for name in ("libc6", "dpkg", "base-files"):
        assert name in os_pkgs and os_pkgs[name].version[0].isdigit(), name
    assert os_pkgs["libc6"].source_name == "glibc"
    assert all(p.ecosystem in ("Debian", "Ubuntu") for p in os_pkgs.values())


def test_pip_packages_of_this_interpreter(real_facts: list[object]) -> None:
    pypi = {(p.name, p.version) for p in packages(real_facts, "PyPI")}  # type: ignore[arg-type]
    for dist in ("pyyaml", "packaging", "pytest"):
        assert (dist, importlib.metadata.version(dist)) in pypi


def test_debian_python_is_owned_by_dpkg(real_facts: list[object]) -> None:
    owned = [f for f in real_facts if isinstance(f, OwnedFiles) and f.manager == "dpkg"]
    if not owned:
        pytest.skip("no dpkg-owned Python here")
    os_python = [p for p in packages(real_facts, "PyPI") if p.path.startswith("usr/lib/python3/dist-packages/")]  # type: ignore[arg-type]
    assert os_python and all(p.os_managed for p in os_python)
    assert any(dict(p.extra).get("os_manager") == "dpkg" for p in os_python)
