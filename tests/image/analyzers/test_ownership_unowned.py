"""Python packages in Debian's `dist-packages` that no OS package owns are PyPI packages (pip put them
there) and are matched against PyPI advisories; `origin` says who installed each package. File lists in
the real dpkg `info/<package>.list` layout (absolute paths, every parent directory listed, `/.` first)."""

from __future__ import annotations

from pathlib import Path

import pytest
from inventory_harness import inventory, packages

from shareguard.core.facts import Package
from shareguard.vuln.matcher import Matcher, query_for
from shareguard.vuln.snapshot import install_snapshot
from shareguard.vuln.store import VulnStore

SITE = "usr/lib/python3/dist-packages"
# python3-yaml.list as dpkg writes it (Debian 12), cut to the lines around the metadata directory
YAML_LIST = b"""/.
/usr
/usr/lib
/usr/lib/python3
/usr/lib/python3/dist-packages
/usr/lib/python3/dist-packages/PyYAML-6.0.dist-info
/usr/lib/python3/dist-packages/PyYAML-6.0.dist-info/METADATA
/usr/lib/python3/dist-packages/PyYAML-6.0.dist-info/RECORD
/usr/lib/python3/dist-packages/PyYAML-6.0.dist-info/WHEEL
/usr/lib/python3/dist-packages/PyYAML-6.0.dist-info/top_level.txt
/usr/lib/python3/dist-packages/_yaml
/usr/lib/python3/dist-packages/_yaml/__init__.py
/usr/lib/python3/dist-packages/yaml
/usr/lib/python3/dist-packages/yaml/__init__.py
/usr/share/doc/python3-yaml/copyright
"""
# an egg-info package (python3-six style: the .egg-info directory and its files)
SIX_LIST = b"""/.
/usr/lib/python3/dist-packages/six-1.16.0.egg-info
/usr/lib/python3/dist-packages/six-1.16.0.egg-info/PKG-INFO
/usr/lib/python3/dist-packages/six-1.16.0.egg-info/dependency_links.txt
/usr/lib/python3/dist-packages/six-1.16.0.egg-info/top_level.txt
/usr/lib/python3/dist-packages/six.py
"""
STATUS = b"""Package: python3-yaml
Status: install ok installed
Maintainer: Debian Python Team <team+python@tracker.debian.org>
Architecture: amd64
Source: pyyaml
Version: 6.0-3+b2

Package: python3-six
Status: install ok installed
Maintainer: Debian Python Team <team+python@tracker.debian.org>
Architecture: all
Source: six
Version: 1.16.0-4

"""


def _meta(name: str, version: str) -> bytes:
    return f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n\n".encode()


def _files(*, lists: bool) -> dict[str, bytes]:
    files = {
        "etc/os-release": b'ID=debian\nVERSION_ID="12"\nPRETTY_NAME="Debian GNU/Linux 12 (bookworm)"\n',
        "var/lib/dpkg/status": STATUS,
        f"{SITE}/PyYAML-6.0.dist-info/METADATA": _meta("PyYAML", "6.0"),
        f"{SITE}/six-1.16.0.egg-info/PKG-INFO": _meta("six", "1.16.0"),
        # `pip install --break-system-packages` as root on an image with an older pip, or setup.py install
        f"{SITE}/torch-2.2.0.dist-info/METADATA": _meta("torch", "2.2.0"),
        f"{SITE}/torch-2.2.0.dist-info/INSTALLER": b"pip\n",
        f"{SITE}/keras-3.8.0.dist-info/METADATA": _meta("keras", "3.8.0"),
        "usr/local/lib/python3.11/dist-packages/transformers-4.30.0.dist-info/METADATA": _meta(
            "transformers", "4.30.0"
        ),
    }
    if lists:
        files["var/lib/dpkg/info/python3-yaml:amd64.list"] = YAML_LIST
        files["var/lib/dpkg/info/python3-six.list"] = SIX_LIST
        files["var/lib/dpkg/info/libc6:amd64.list"] = b"/.\n/usr/lib/x86_64-linux-gnu/libc.so.6\n"
    return files


def _pypi(files: dict[str, bytes]) -> dict[str, Package]:
    return {p.name: p for p in packages(inventory(files, "sha256:l1"), "PyPI")}


def test_unowned_dist_packages_are_pypi_packages_when_dpkg_lists_exist() -> None:
    pypi = _pypi(_files(lists=True))
    for owned, deb in (("pyyaml", "python3-yaml"), ("six", "python3-six")):
        p = pypi[owned]
        assert p.os_managed and p.origin == "os" and dict(p.extra)["os_package"] == deb
    for name in ("torch", "keras"):
        p = pypi[name]
        assert not p.os_managed and p.origin == "pip", p
        assert dict(p.extra)["unowned_in"] == "dist-packages" and "os_package" not in dict(p.extra)
    assert dict(pypi["torch"].extra)["installer"] == "pip"
    assert not pypi["transformers"].os_managed and pypi["transformers"].origin == "pip"


def test_without_ownership_data_dist_packages_stay_os_managed_by_location() -> None:
    pypi = _pypi(_files(lists=False))
    for name in ("pyyaml", "six", "torch", "keras"):
        p = pypi[name]
        assert p.os_managed and p.origin == "os" and dict(p.extra)["os_manager"] == "dpkg (by location)"
    assert not pypi["transformers"].os_managed


def test_unowned_dist_packages_are_matched_against_pypi_advisories(tmp_path: Path) -> None:
    db = tmp_path / "vuln.sqlite"
    install_snapshot(db)
    pypi = _pypi(_files(lists=True))
    with VulnStore(db) as store:
        matcher = Matcher(store)
        ids = {n: {m.advisory_id for m in matcher.match(p)} for n, p in pypi.items()}
    assert query_for(pypi["pyyaml"], None) is None  # matched through its Debian package instead
    assert {"GHSA-53q9-r3pm-6pq6", "GHSA-63cw-57p8-fm3p"} <= ids["torch"]
    assert {"GHSA-48g7-3x6r-xfhp", "GHSA-36rr-ww3j-vrjv"} <= ids["keras"]
    assert "SHAREGUARD-CVE-2023-6730" in ids["transformers"]


@pytest.mark.skipif(not Path("/var/lib/dpkg/info/python3-yaml.list").is_file(), reason="needs Debian's python3-yaml")
def test_this_machines_real_dpkg_list() -> None:
    files = _files(lists=True)
    real = Path("/var/lib/dpkg/info/python3-yaml.list").read_bytes()
    files["var/lib/dpkg/info/python3-yaml:amd64.list"] = real
    owned = [line[1:] for line in real.decode().splitlines() if line.endswith(".dist-info")]
    for d in owned:
        files[f"{d}/METADATA"] = _meta("PyYAML", d.rsplit("-", 1)[-1].removesuffix(".dist-info"))
    pypi = _pypi(files)
    assert pypi["pyyaml"].os_managed and pypi["pyyaml"].origin == "os"
    assert not pypi["torch"].os_managed
