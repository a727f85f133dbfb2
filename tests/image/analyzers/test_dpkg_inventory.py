from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
from debian import deb822
from inventory_harness import extra, inventory, packages, run_analyzer

from shareguard.core.facts import Package
from shareguard.image.analyzers.dpkg import DpkgAnalyzer, list_package_name, parse_source
from shareguard.image.facts import OwnedFiles

STATUS = Path("/var/lib/dpkg/status")
DEBIAN_12 = b'PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"\nID=debian\nVERSION_ID="12"\nVERSION_CODENAME=bookworm\n'
UBUNTU_2204 = b'ID=ubuntu\nVERSION_ID="22.04"\nVERSION_CODENAME=jammy\nPRETTY_NAME="Ubuntu 22.04.4 LTS"\n'

needs_dpkg = pytest.mark.skipif(not STATUS.exists() or not shutil.which("dpkg-query"), reason="no dpkg here")


def _real_paragraph(name: str) -> str:
    for para in deb822.Deb822.iter_paragraphs(STATUS.read_text(errors="replace").splitlines(keepends=True)):
        if para.get("Package") == name:
            return str(para)
    pytest.skip(f"{name} not installed here")


@needs_dpkg
def test_real_status_matches_dpkg_query() -> None:
    out = subprocess.run(
        ["dpkg-query", "-W", "-f", "${db:Status-Abbrev}|${binary:Package}|${Version}|${source:Package}\n"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    expected = {}
    for line in out.splitlines():
        status, binary, version, source = line.split("|")
        if status.strip() in ("ii", "hi"):
            expected[(binary.split(":")[0], version)] = source
    facts = run_analyzer(DpkgAnalyzer(), "var/lib/dpkg/status", STATUS.read_bytes(), "sha256:base")
    pkgs = [f for f in facts if isinstance(f, Package)]
    got = {(p.name, p.version): p.source_name for p in pkgs}
    assert got == expected
    assert all(p.layer == "sha256:base" and p.os_managed and p.origin == "os" for p in pkgs)


@needs_dpkg
def test_real_libc6_has_its_source_package_and_purl() -> None:
    facts = inventory({"etc/os-release": DEBIAN_12, "var/lib/dpkg/status": STATUS.read_bytes()})
    [libc] = [p for p in packages(facts) if p.name == "libc6" and p.arch == "amd64"] or [None]
    if libc is None:
        pytest.skip("libc6:amd64 not installed")
    assert libc.source_name == "glibc" and libc.ecosystem == "Debian"
    assert extra(libc)["osv_ecosystem"] == "Debian:12"
    assert libc.purl is not None and libc.purl.startswith("pkg:deb/debian/libc6@") and "distro=debian-12" in libc.purl


@needs_dpkg
def test_real_paragraph_as_distroless_status_d_file() -> None:
    para = _real_paragraph("libc6")
    without_status = "\n".join(line for line in para.splitlines() if not line.startswith("Status:")) + "\n"
    facts = inventory(
        {
            "etc/os-release": DEBIAN_12,
            "var/lib/dpkg/status.d/libc6": without_status.encode(),
            "var/lib/dpkg/status.d/libc6.md5sums": b"d41d8cd98f00b204e9800998ecf8427e  lib/x\n",
        }
    )
    [pkg] = packages(facts)
    assert pkg.name == "libc6" and pkg.path == "var/lib/dpkg/status.d/libc6" and pkg.source_name == "glibc"


@needs_dpkg
def test_real_list_files_give_owned_python_metadata() -> None:
    lists = sorted(Path("/var/lib/dpkg/info").glob("python3-yaml*.list"))
    if not lists:
        pytest.skip("python3-yaml not installed")
    rel = str(lists[0]).lstrip("/")
    [owned] = run_analyzer(DpkgAnalyzer(), rel, lists[0].read_bytes(), None)
    assert isinstance(owned, OwnedFiles) and owned.package == "python3-yaml" and owned.manager == "dpkg"
    assert any(f.startswith("usr/lib/python3/dist-packages/") and f.endswith(".dist-info") for f in owned.files)
    assert all(not f.startswith("/") for f in owned.files)


def test_status_filters_not_installed_and_parses_source_versions() -> None:
    status = b"""Package: libssl3
Status: install ok installed
Architecture: amd64
Source: openssl (3.0.11-1~deb12u2)
Version: 3.0.13-1~deb12u1
Maintainer: Debian OpenSSL Team <pkg-openssl-devel@alioth-lists.debian.net>

Package: removed-pkg
Status: deinstall ok config-files
Architecture: amd64
Version: 1.0-1

Package: held
Status: hold ok installed
Architecture: all
Version: 1:2.0-3

Package: half
Status: install reinstreq half-installed
Version: 1.0

Package: noversion
Status: install ok installed
"""
    facts = inventory({"etc/os-release": UBUNTU_2204, "var/lib/dpkg/status": status})
    by_name = {p.name: p for p in packages(facts)}
    assert set(by_name) == {"libssl3", "held"}
    ssl = by_name["libssl3"]
    assert (ssl.source_name, ssl.source_version) == ("openssl", "3.0.11-1~deb12u2")
    assert ssl.ecosystem == "Ubuntu" and extra(ssl)["osv_ecosystem"] == "Ubuntu:22.04:LTS"
    assert ssl.purl == "pkg:deb/ubuntu/libssl3@3.0.13-1~deb12u1?arch=amd64&distro=ubuntu-22.04"
    assert (by_name["held"].source_name, by_name["held"].source_version) == ("held", "1:2.0-3")


def test_parse_source_forms() -> None:
    assert parse_source(None, "a", "1") == ("a", "1")
    assert parse_source("glibc", "libc6", "2.36") == ("glibc", "2.36")
    assert parse_source("glibc (2.36-9)", "libc6", "2.36-9+b1") == ("glibc", "2.36-9")
    assert parse_source("  ", "a", "1") == ("a", "1")


def test_layer_comes_from_the_list_file_that_installed_the_package() -> None:
    status = b"Package: curl\nStatus: install ok installed\nArchitecture: amd64\nVersion: 7.88.1-10\n\n" + (
        b"Package: libc6\nStatus: install ok installed\nArchitecture: amd64\nVersion: 2.36-9\n"
    )
    from inventory_harness import analyze_files, finalize

    facts, files = analyze_files({"etc/os-release": DEBIAN_12, "var/lib/dpkg/status": status}, "sha256:top")
    files["var/lib/dpkg/info/libc6:amd64.list"] = "sha256:base"
    files["var/lib/dpkg/info/curl.list"] = "sha256:mid"
    layers = {p.name: p.layer for p in packages(finalize(facts, files))}
    assert layers == {"libc6": "sha256:base", "curl": "sha256:mid"}


def test_required_is_exact() -> None:
    a = DpkgAnalyzer()
    assert a.required("var/lib/dpkg/status", 10**6)
    assert a.required("var/lib/dpkg/status.d/libc6", 500)
    assert not a.required("var/lib/dpkg/status.d/libc6.md5sums", 500)
    assert not a.required("var/lib/dpkg/status-old", 500)
    assert a.required("var/lib/dpkg/info/libc6:amd64.list", 500)
    assert not a.required("var/lib/dpkg/info/libc6:amd64.md5sums", 500)
    assert not a.required("usr/var/lib/dpkg/status", 500)
    # wanted whatever its size; over its budget it is reported instead of read (#14 item 8)
    assert a.required("var/lib/dpkg/status", 10**10) and a.max_bytes("var/lib/dpkg/status") == 128 * 1024 * 1024
    assert list_package_name("var/lib/dpkg/info/libc6:amd64.list") == "libc6"


@pytest.mark.parametrize(
    "content",
    [b"", b"\xff\xfe\x00garbage", b"Package: x\nVersion", b"Package: \xff\nStatus: install ok installed\nVersion: 1\n"],
)
def test_garbage_status(content: bytes) -> None:
    facts = run_analyzer(DpkgAnalyzer(), "var/lib/dpkg/status", content, None)
    assert all(isinstance(f, Package) for f in facts)


def test_backports_are_marked() -> None:
    status = b"Package: linux-image-6.6.13+bpo-amd64\nStatus: install ok installed\nArchitecture: amd64\nSource: linux-signed-amd64 (6.6.13+1~bpo12+1)\nVersion: 6.6.13-1~bpo12+1\n"
    [pkg] = packages(inventory({"etc/os-release": DEBIAN_12, "var/lib/dpkg/status": status}))
    assert extra(pkg)["backport"] == "true" and pkg.source_version == "6.6.13+1~bpo12+1"
