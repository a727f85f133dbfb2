"""Ecosystem names, release scoping, purls and upgrade commands."""

from __future__ import annotations

import pytest

from shareguard.core.facts import OSInfo, Package
from shareguard.vuln.analyzer import _dedupe_conda
from shareguard.vuln.ecosystems import normalise_name, release_matches, split
from shareguard.vuln.purl import package_purl, same_package
from shareguard.vuln.remediation import upgrade_command


def test_split_and_normalise() -> None:
    assert split("Ubuntu:Pro:22.04:LTS") == ("Ubuntu", "Pro:22.04:LTS")
    assert split("PyPI") == ("PyPI", "")
    assert normalise_name("PyPI", "Zope.Interface__x") == "zope-interface-x"
    assert normalise_name("npm", "@Types/Node") == "@types/node"


@pytest.mark.parametrize(
    ("base", "advisory", "package", "expected"),
    [
        ("Debian", "12", "12", True),
        ("Debian", "12", "12.5", True),
        ("Debian", "11", "12", False),
        ("Debian", "", "12", True),
        ("Debian", "12", "", False),
        ("Ubuntu", "22.04:LTS", "22.04", True),
        ("Ubuntu", "22.04:LTS", "22.04:LTS", True),
        ("Ubuntu", "Pro:22.04:LTS", "22.04:LTS", False),
        ("Ubuntu", "20.04:LTS", "22.04", False),
        ("Alpine", "v3.19", "3.19.1", True),
        ("Alpine", "v3.19", "v3.19", True),
        ("Alpine", "v3.19", "3.18.4", False),
        ("Rocky Linux", "9", "9.3", True),
        ("Debian", "sid", "sid", True),
    ],
)
def test_release_matches(base: str, advisory: str, package: str, expected: bool) -> None:
    assert release_matches(base, advisory, package) is expected


def test_purls() -> None:
    deb = Package(
        name="libssl3", version="3.0.11-1~deb12u2", ecosystem="Debian:12", path="var/lib/dpkg/status", arch="amd64"
    )
    os12 = OSInfo(id="debian", version_id="12")
    assert package_purl(deb, os12) == "pkg:deb/debian/libssl3@3.0.11-1~deb12u2?arch=amd64&distro=debian-12"
    npm = Package(name="@types/node", version="20.1.0", ecosystem="npm", path="p")
    assert package_purl(npm) == "pkg:npm/%40types/node@20.1.0"
    assert package_purl(Package(name="cuda", version="12", ecosystem="generic", path="p")) is None
    assert same_package("pkg:pypi/PyYAML", "pkg:pypi/pyyaml@5.3")
    assert same_package("pkg:pypi/zope.interface", "pkg:pypi/zope-interface@5")
    assert not same_package("pkg:npm/pyyaml", "pkg:pypi/pyyaml@5.3")
    assert not same_package("not a purl", "pkg:pypi/pyyaml@5.3")


@pytest.mark.parametrize(
    ("ecosystem", "name", "fixed", "command"),
    [
        ("PyPI", "torch", "2.6.0", "pip install 'torch>=2.6.0'"),
        ("conda", "pytorch", "2.6.0", "conda install 'pytorch>=2.6.0'"),
        ("npm", "lodash", "4.17.21", "npm install lodash@4.17.21"),
        ("Debian", "libssl3", "3.0.11-1~deb12u2", "apt-get update && apt-get install --only-upgrade libssl3"),
        ("Alpine", "libcrypto3", "3.1.4-r5", "apk add --upgrade libcrypto3"),
        ("Rocky Linux", "openssl-libs", "1:3.0.7-25.el9", "dnf upgrade openssl-libs"),
        ("PyPI", "torch", None, None),
    ],
)
def test_upgrade_commands(ecosystem: str, name: str, fixed: str | None, command: str | None) -> None:
    pkg = Package(name=name, version="1", ecosystem=ecosystem, path="p")
    assert upgrade_command(pkg, ecosystem, fixed) == command


def test_conda_and_its_dist_info_matched_once() -> None:
    conda = Package(
        name="pytorch",
        version="2.2.0",
        ecosystem="conda",
        path="opt/conda/envs/ml/conda-meta/pytorch-2.2.0-py3.10_cuda12.1_cudnn8.9.2_0.json",
        extra=(("pypi_name", "torch"),),
    )
    dist = Package(
        name="torch",
        version="2.2.0",
        ecosystem="PyPI",
        path="opt/conda/envs/ml/lib/python3.10/site-packages/torch-2.2.0.dist-info/METADATA",
    )
    other_env = Package(
        name="torch",
        version="2.2.0",
        ecosystem="PyPI",
        path="usr/local/lib/python3.10/site-packages/torch-2.2.0.dist-info/METADATA",
    )
    assert _dedupe_conda([conda, dist, other_env]) == [conda, other_env]
