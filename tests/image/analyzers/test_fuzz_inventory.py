"""Fuzz target (issue #14): the package inventories (dpkg status, rpm headers in an rpmdb.sqlite, apk
installed, Python METADATA) on valid files mutated line by line and byte by byte.

Property: every analyzer that claims the path returns facts or raises a `ShareguardError` (a per-file
issue), never another exception; every `Package` it returns has the documented shape (non-empty name,
string version and ecosystem, the file's path, the layer given)."""

from __future__ import annotations

import sqlite3
import struct

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from inventory_harness import run_analyzer

from shareguard.core.errors import ShareguardError
from shareguard.core.facts import Fact, Package
from shareguard.image.analyzers import rpm_header as rh
from shareguard.image.plugin import inventory_analyzers

FUZZ = settings(max_examples=80, deadline=5000, suppress_health_check=[HealthCheck.too_slow])
LAYER = "sha256:" + "f" * 64

DPKG = b"""Package: libc6
Status: install ok installed
Priority: optional
Architecture: amd64
Multi-Arch: same
Source: glibc (2.36-9+deb12u4)
Version: 2.36-9+deb12u4
Depends: libgcc-s1
Description: GNU C Library: Shared libraries
 Contains the standard libraries that are used by nearly all programs on
 .
 the system.

Package: python3-yaml
Status: deinstall ok config-files
Architecture: amd64
Version: 6.0-3+b2

Package: openssl
Status: install ok installed
Architecture: amd64
Version: 1:3.0.11-1~deb12u2
"""
APK = b"""C:Q1p78yvTLG094tHE1+dToJGbmYzQE=
P:musl
V:1.2.4-r2
A:x86_64
S:383152
I:622592
T:the musl c library (libc) implementation
U:https://musl.libc.org/
L:MIT
o:musl
m:Natanael Copa <ncopa@alpinelinux.org>
t:1698144286
c:ee0a5f1fa0f7e4f6df8e04ad36d8b8e5e4f1b1d1
F:lib
R:ld-musl-x86_64.so.1

P:zlib
V:1.3.1-r0
A:x86_64
L:Zlib
"""
METADATA = """Metadata-Version: 2.1
Name: Torch-Nightly
Version: 2.1.0+cu121
Summary: Tensors and Dynamic neural networks
License: BSD-3-Clause
License-Expression: BSD-3-Clause
Classifier: License :: OSI Approved :: BSD License
Requires-Dist: filelock
Requires-Dist: sympy ; extra == "x"
Author: naïve ünïcode

Long description body: Name: not-a-header
""".encode()

PATHS = {
    "dpkg": "var/lib/dpkg/status",
    "dpkg.d": "var/lib/dpkg/status.d/libc6",
    "apk": "lib/apk/db/installed",
    "metadata": "usr/lib/python3/dist-packages/torch-2.1.0.dist-info/METADATA",
    "egg": "usr/lib/python3.11/site-packages/x-1.egg-info/PKG-INFO",
}
SEEDS = {"dpkg": DPKG, "dpkg.d": DPKG.split(b"\n\n")[0], "apk": APK, "metadata": METADATA, "egg": METADATA}
LINES = [
    b"",
    b" .",
    b" continuation without a field",
    b"Version: " + b"9" * 5000,
    b"Version: 1:" + b"0" * 300 + b"~~~",
    b"Package: ev\x1b[2Jil",
    b"Name: \xff\xfe\x00",
    b"Status: install ok installed",
    b"P:",
    b"V:",
    b"Version:",
    b"Name:",
    b"Source: (",
    b"Source: x (1.0",
    "Architecture: \u202e".encode(),
    b":::",
    b"\r",
    b"\x00" * 20,
    b"Package: dup\nPackage: dup",
]


@st.composite
def mutated(draw: st.DrawFn, seed: bytes) -> bytes:
    lines = seed.split(b"\n")
    for _ in range(draw(st.integers(1, 5))):
        op = draw(st.sampled_from(["replace", "insert", "delete", "swap", "bytes", "truncate"]))
        i = draw(st.integers(0, max(len(lines) - 1, 0)))
        if op == "replace" and lines:
            lines[i] = draw(st.sampled_from(LINES))
        elif op == "insert":
            lines.insert(i, draw(st.sampled_from(LINES)))
        elif op == "delete" and lines:
            del lines[i]
        elif op == "swap" and lines:
            j = draw(st.integers(0, len(lines) - 1))
            lines[i], lines[j] = lines[j], lines[i]
        elif op == "bytes":
            data = bytearray(b"\n".join(lines))
            if data:
                pos = draw(st.integers(0, len(data) - 1))
                data[pos] ^= draw(st.integers(1, 255))
            lines = bytes(data).split(b"\n")
        else:
            lines = lines[:i]
    return b"\n".join(lines)


def _run(path: str, content: bytes) -> None:
    claimed = False
    for analyzer in inventory_analyzers():
        if not analyzer.required(path, len(content)):
            continue
        claimed = True
        try:
            facts = run_analyzer(analyzer, path, content, LAYER)
        except ShareguardError:
            continue
        for fact in facts:
            assert isinstance(fact, Fact)
            if isinstance(fact, Package):
                assert isinstance(fact.name, str) and fact.name
                assert isinstance(fact.version, str) and isinstance(fact.ecosystem, str) and fact.ecosystem
                assert fact.layer == LAYER and isinstance(fact.path, str)
                assert fact.purl is None or fact.purl.startswith("pkg:")
    assert claimed, path


@st.composite
def text_case(draw: st.DrawFn) -> tuple[str, bytes]:
    kind = draw(st.sampled_from(sorted(PATHS)))
    return PATHS[kind], draw(mutated(SEEDS[kind]))


@FUZZ
@given(text_case())
@example((PATHS["dpkg"], DPKG.replace(b"Version: 2.36", b"Version: " + b"9" * 5000)))
@example((PATHS["apk"], b"P:x\nV:" + b"\xff" * 10))
@example((PATHS["metadata"], b"Name: x\nVersion: 1\n\n" + b"\xff" * 100))
def test_text_inventories_mutated(case: tuple[str, bytes]) -> None:
    _run(*case)


# rpm: hand-built headers (following rpm's lib/header.c) inside a real sqlite rpmdb.
def _header(entries: list[tuple[int, int, object]]) -> bytes:
    index: list[tuple[int, int, int, int]] = []
    data = bytearray()
    for tag, typ, value in entries:
        if typ == rh.T_INT32:
            while len(data) % 4:
                data.append(0)
            values = value if isinstance(value, list) else [value]
            index.append((tag, typ, len(data), len(values)))
            data += struct.pack(f">{len(values)}i", *values)
        elif typ == rh.T_STRING_ARRAY:
            assert isinstance(value, list)
            index.append((tag, typ, len(data), len(value)))
            for s in value:
                data += s.encode() + b"\0"
        else:
            index.append((tag, typ, len(data), 1))
            data += str(value).encode() + b"\0"
    index.insert(0, (63, 7, len(data), 16))
    data += struct.pack(">IIiI", 63, 7, -16 * len(index), 16)
    blob = struct.pack(">II", len(index), len(data))
    for entry in index:
        blob += struct.pack(">IIiI", *entry)
    return blob + bytes(data)


HEADER = _header(
    [
        (rh.NAME, rh.T_STRING, "bash"),
        (rh.VERSION, rh.T_STRING, "5.1.8"),
        (rh.RELEASE, rh.T_STRING, "9.el9"),
        (rh.EPOCH, rh.T_INT32, 1),
        (rh.ARCH, rh.T_STRING, "x86_64"),
        (rh.LICENSE, rh.T_STRING, "GPLv3+"),
        (rh.SOURCERPM, rh.T_STRING, "bash-5.1.8-9.el9.src.rpm"),
        (rh.DIRNAMES, rh.T_STRING_ARRAY, ["/usr/bin/", "/usr/lib/python3.9/site-packages/x-1.dist-info/"]),
        (rh.BASENAMES, rh.T_STRING_ARRAY, ["bash", "METADATA"]),
        (rh.DIRINDEXES, rh.T_INT32, [0, 1]),
    ]
)


def _db(blobs: list[bytes]) -> bytes:
    con = sqlite3.connect(":memory:")
    con.execute("CREATE TABLE Packages (hnum INTEGER PRIMARY KEY AUTOINCREMENT, blob BLOB NOT NULL)")
    con.executemany("INSERT INTO Packages (blob) VALUES (?)", [(b,) for b in blobs])
    con.commit()
    return con.serialize()


DB = _db([HEADER])
FIELDS = [b"\xff\xff\xff\xff", b"\x7f\xff\xff\xff", b"\x80\x00\x00\x00", b"\x00\x00\x00\x00", b"\x00\x00\x00\x10"]


@st.composite
def header(draw: st.DrawFn) -> bytes:
    data = bytearray(HEADER)
    for _ in range(draw(st.integers(1, 6))):
        op = draw(st.sampled_from(["flip", "field", "truncate"]))
        pos = draw(st.integers(0, len(data) - 1)) if data else 0
        if op == "flip" and data:
            data[pos] ^= draw(st.integers(1, 255))
        elif op == "field":
            pos -= pos % 4  # the index and counts are 32-bit big-endian words
            data[pos : pos + 4] = draw(st.sampled_from(FIELDS))
        else:
            del data[pos:]
    return bytes(data)


@FUZZ
@given(st.lists(header(), min_size=1, max_size=3))
def test_rpm_headers_mutated(headers: list[bytes]) -> None:
    _run("var/lib/rpm/rpmdb.sqlite", _db([HEADER, *headers]))


def _non_utf8_sqlite_master() -> bytes:
    """The rpmdb with one byte of a `sqlite_master` row's text made invalid UTF-8 (minimised from the fuzzer:
    one byte XOR 0x80: the first byte of the `sqlite_sequence` row's name)."""
    data = bytearray(DB)
    data[DB.index(b"tablesqlite_sequence") + 5] ^= 0x80
    return bytes(data)


def test_rpmdb_with_non_utf8_text_in_sqlite_master() -> None:
    """Found by this fuzz target: sqlite3's UnicodeDecodeError escaped instead of a ParseError."""
    _run("var/lib/rpm/rpmdb.sqlite", _non_utf8_sqlite_master())


@settings(max_examples=40, deadline=5000, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.tuples(st.integers(0, len(DB) - 1), st.integers(1, 255)), min_size=1, max_size=8))
def test_rpmdb_file_mutated(edits: list[tuple[int, int]]) -> None:
    data = bytearray(DB)
    for pos, xor in edits:
        data[pos] ^= xor
    _run("var/lib/rpm/rpmdb.sqlite", bytes(data))
