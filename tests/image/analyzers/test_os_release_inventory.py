from __future__ import annotations

from pathlib import Path

import pytest
from inventory_harness import inventory, run_analyzer

from shareguard.core.facts import OSInfo
from shareguard.image.analyzers.finalizers.os_info import OSInfoFinalizer
from shareguard.image.analyzers.os_release import OSReleaseAnalyzer, parse_os_release

UBUNTU_2204 = b"""PRETTY_NAME="Ubuntu 22.04.4 LTS"
NAME="Ubuntu"
VERSION_ID="22.04"
VERSION="22.04.4 LTS (Jammy Jellyfish)"
VERSION_CODENAME=jammy
ID=ubuntu
ID_LIKE=debian
UBUNTU_CODENAME=jammy
"""

DISTROLESS = b"""PRETTY_NAME="Distroless"
NAME="Debian GNU/Linux"
ID="debian"
VERSION_ID="12"
VERSION="Debian GNU/Linux 12 (bookworm)"
HOME_URL="https://github.com/GoogleContainerTools/distroless"
"""


def _os(facts: list[object]) -> OSInfo:
    infos = [f for f in facts if isinstance(f, OSInfo)]
    assert len(infos) == 1
    return infos[0]


def test_real_os_release_of_this_machine() -> None:
    real = Path("/etc/os-release")
    if not real.exists():
        pytest.skip("no /etc/os-release")
    expected = parse_os_release(real.read_text())
    [info] = run_analyzer(OSReleaseAnalyzer(), "etc/os-release", real.read_bytes(), "sha256:l1")
    assert isinstance(info, OSInfo)
    assert info.id == expected["ID"] and info.version_id == expected.get("VERSION_ID", "")
    assert info.layer == "sha256:l1" and info.pretty_name


def test_quoting_and_comments() -> None:
    fields = parse_os_release('# c\nNAME=\'Foo Linux\'\nPRETTY_NAME="A \\"quoted\\" \\$x"\nBROKEN\n=x\nID=foo\n')
    assert fields == {"NAME": "Foo Linux", "PRETTY_NAME": 'A "quoted" $x', "ID": "foo"}


def test_ubuntu_and_required_paths() -> None:
    a = OSReleaseAnalyzer()
    assert a.required("etc/os-release", 400) and a.required("usr/lib/os-release", 400)
    assert not a.required("etc/os-release.bak", 400) and a.required("etc/os-release", 10**9)
    assert a.max_bytes("etc/os-release") == 64 * 1024  # over it: reported, not read (#14 item 8)
    [info] = run_analyzer(a, "usr/lib/os-release", UBUNTU_2204, None)
    assert isinstance(info, OSInfo)
    assert (info.id, info.version_id, info.version_codename) == ("ubuntu", "22.04", "jammy")


def test_fallbacks_alpine_and_debian_testing() -> None:
    facts = inventory({"etc/alpine-release": b"3.19.1\n"})
    assert (_os(facts).id, _os(facts).version_id) == ("alpine", "3.19.1")
    testing = (
        b'PRETTY_NAME="Debian GNU/Linux trixie/sid"\nNAME="Debian GNU/Linux"\nVERSION_CODENAME=trixie\nID=debian\n'
    )
    info = _os(inventory({"etc/os-release": testing, "etc/debian_version": b"trixie/sid\n"}))
    assert info.path == "etc/os-release" and info.version_codename == "trixie" and info.version_id == ""
    info = _os(inventory({"etc/debian_version": b"12.5\n"}))
    assert (info.id, info.version_id) == ("debian", "12.5")


def test_os_release_wins_over_fallbacks() -> None:
    info = _os(inventory({"etc/debian_version": b"bookworm/sid\n", "usr/lib/os-release": UBUNTU_2204}))
    assert info.id == "ubuntu"


def test_distroless_by_pretty_name_and_by_status_d() -> None:
    assert _os(inventory({"etc/os-release": DISTROLESS})).distroless
    plain = b'ID=debian\nVERSION_ID="12"\nPRETTY_NAME="Debian GNU/Linux 12 (bookworm)"\n'
    status_d = b"Package: libc6\nVersion: 2.36-9+deb12u4\nArchitecture: amd64\n"
    assert _os(inventory({"etc/os-release": plain, "var/lib/dpkg/status.d/libc6": status_d})).distroless
    with_status = {"etc/os-release": plain, "var/lib/dpkg/status": status_d, "var/lib/dpkg/status.d/x": status_d}
    assert not _os(inventory(with_status)).distroless
    assert not _os(inventory({"etc/os-release": plain})).distroless


def test_no_os_leaves_facts_alone() -> None:
    assert OSInfoFinalizer().finalize([], {}) == []


@pytest.mark.parametrize("content", [b"", b"\x00\xff" * 50, b"ID=\n", b"=\n" * 1000, b"\n" * 10])
def test_garbage_gives_nothing(content: bytes) -> None:
    for path in ("etc/os-release", "etc/alpine-release", "etc/debian_version"):
        facts = run_analyzer(OSReleaseAnalyzer(), path, content, None)
        assert all(isinstance(f, OSInfo) for f in facts)
