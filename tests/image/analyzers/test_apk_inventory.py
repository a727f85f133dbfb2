from __future__ import annotations

import pytest
from inventory_harness import extra, inventory, packages, run_analyzer

from shareguard.core.facts import Package
from shareguard.image.analyzers.apk import ApkAnalyzer
from shareguard.image.facts import OwnedFiles

ALPINE = b'NAME="Alpine Linux"\nID=alpine\nVERSION_ID=3.19.1\nPRETTY_NAME="Alpine Linux v3.19"\n'

# The shape of a real `lib/apk/db/installed` (alpine:3.19 with python3 and py3-yaml added).
INSTALLED = b"""C:Q1Xw3r4aDbn8Y2Ukg0yBv7DsGRdOc=
P:musl
V:1.2.4_git20230717-r4
A:x86_64
S:407278
I:663552
T:the musl c library (libc) implementation
U:https://musl.libc.org/
L:MIT
o:musl
m:Timo Ter\xc3\xa4s <timo.teras@iki.fi>
t:1701186416
c:ca7f2ab5e88794e4e654b40776f8a92256f50639
p:so:libc.musl-x86_64.so.1=1
F:lib
R:ld-musl-x86_64.so.1
a:0:0:755
Z:Q1Uw5+v1WE1CvZ+pX3iYHZQjkR0Lk=
R:libc.musl-x86_64.so.1
a:0:0:777
Z:Q17yJ3JFNypA4mxhJJr0ou6CzsJVI=

C:Q1PD3Y0s0fRU+3IqmEZP4VxzCafZs=
P:libcrypto3
V:3.1.4-r5
A:x86_64
S:1716282
I:4431872
T:Crypto library from openssl
U:https://www.openssl.org/
L:Apache-2.0
o:openssl
m:Ariadne Conill <ariadne@dereferenced.org>
t:1706718547
c:0ff3c9ad7e0d4f6b6b07a9a5a0a6d28a5a3f8a37
D:so:libc.musl-x86_64.so.1
p:so:libcrypto.so.3=3
F:usr
F:usr/lib
R:libcrypto.so.3
a:0:0:755
Z:Q1K/ad2fdlLTdzMrG5qOxQv5RsF+A=

C:Q1hSVu7O8cVrU8M8JwUc27pUjB6tQ=
P:py3-yaml
V:6.0.1-r1
A:x86_64
S:153912
I:786432
T:Python3 bindings for YAML
U:https://pyyaml.org/wiki/PyYAML
L:MIT
o:py3-yaml
m:Natanael Copa <ncopa@alpinelinux.org>
t:1702000000
c:1f3c9ad7e0d4f6b6b07a9a5a0a6d28a5a3f8a37a
D:python3~3.11 so:libc.musl-x86_64.so.1 so:libyaml-0.so.2
F:usr/lib/python3.11/site-packages/PyYAML-6.0.1.dist-info
R:METADATA
Z:Q1abc=
R:RECORD
F:usr/lib/python3.11/site-packages/yaml
R:__init__.py
"""


def test_realistic_installed_db() -> None:
    facts = inventory(
        {
            "etc/os-release": ALPINE,
            "lib/apk/db/installed": INSTALLED,
            "usr/lib/python3.11/site-packages/PyYAML-6.0.1.dist-info/METADATA": b"Name: PyYAML\nVersion: 6.0.1\n",
        },
        "sha256:base",
    )
    by_name = {p.name: p for p in packages(facts)}
    assert set(by_name) == {"musl", "libcrypto3", "py3-yaml", "pyyaml"}
    crypto = by_name["libcrypto3"]
    assert (crypto.version, crypto.source_name, crypto.arch, crypto.licenses) == (
        "3.1.4-r5",
        "openssl",
        "x86_64",
        ("Apache-2.0",),
    )
    assert crypto.ecosystem == "Alpine" and extra(crypto)["osv_ecosystem"] == "Alpine:v3.19"
    assert crypto.purl == "pkg:apk/alpine/libcrypto3@3.1.4-r5?arch=x86_64&distro=alpine-3.19.1"
    assert extra(by_name["musl"])["maintainer"] == "Timo Teräs <timo.teras@iki.fi>"
    pyyaml = by_name["pyyaml"]
    assert pyyaml.os_managed and extra(pyyaml).items() >= {"os_package": "py3-yaml", "os_manager": "apk"}.items()
    owned = [f for f in facts if isinstance(f, OwnedFiles)]
    assert [o.files for o in owned] == [("usr/lib/python3.11/site-packages/PyYAML-6.0.1.dist-info",)]


def test_required() -> None:
    a = ApkAnalyzer()
    assert a.required("lib/apk/db/installed", 10**6)
    assert not a.required("lib/apk/db/installed.bak", 10) and not a.required("usr/lib/apk/db/installed", 10)


@pytest.mark.parametrize("content", [b"", b"P:\nV:\n", b"\xff\xfe:::\n\n\n", b"P:onlyname\n", INSTALLED[:300]])
def test_garbage_and_truncation(content: bytes) -> None:
    facts = run_analyzer(ApkAnalyzer(), "lib/apk/db/installed", content, None)
    assert all(isinstance(f, Package) and f.name and f.version for f in facts if isinstance(f, Package))
