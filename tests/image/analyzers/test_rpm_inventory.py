from __future__ import annotations

import contextlib
import shutil
import sqlite3
import struct
import subprocess
from pathlib import Path

import pytest
from inventory_harness import extra, inventory, packages, run_analyzer

from shareguard.core.errors import ParseError
from shareguard.core.facts import Package
from shareguard.image.analyzers import rpm_header as rh
from shareguard.image.analyzers.rpm import RpmAnalyzer, split_source_rpm
from shareguard.image.facts import InventoryNotice, OwnedFiles

ROCKY_9 = b'NAME="Rocky Linux"\nVERSION="9.3 (Blue Onyx)"\nID="rocky"\nVERSION_ID="9.3"\nPRETTY_NAME="Rocky Linux 9.3 (Blue Onyx)"\n'
SPEC = """Name: {name}
Version: {version}
Release: {release}
{epoch}Summary: shareguard test package
License: {license}
Vendor: {vendor}
BuildArch: noarch
%description
test
%install
mkdir -p %{{buildroot}}/usr/lib/python3.9/site-packages/{dist}-{version}.dist-info
printf 'Metadata-Version: 2.1\\nName: {dist}\\nVersion: {version}\\n' > %{{buildroot}}/usr/lib/python3.9/site-packages/{dist}-{version}.dist-info/METADATA
mkdir -p %{{buildroot}}/usr/share/{name}
echo hi > %{{buildroot}}/usr/share/{name}/README
%files
/usr/lib/python3.9/site-packages/{dist}-{version}.dist-info
/usr/share/{name}/README
"""


def _build_rpmdb(tmp: Path, specs: list[dict[str, str]]) -> bytes:
    """A real sqlite rpmdb: rpmbuild real packages, then `rpm -i --justdb` them into a fresh database."""
    if not (shutil.which("rpmbuild") and shutil.which("rpm")):
        pytest.skip("rpm/rpmbuild not installed (apt-get install rpm)")
    if subprocess.run(["rpm", "--eval", "%_db_backend"], capture_output=True, text=True).stdout.strip() != "sqlite":
        pytest.skip("rpm here does not use the sqlite backend")
    dbpath = tmp / "db"
    rpms = []
    for spec in specs:
        spec_file = tmp / f"{spec['name']}.spec"
        spec_file.write_text(SPEC.format(**spec))
        subprocess.run(
            ["rpmbuild", "--define", f"_topdir {tmp / 'top'}", "-bb", str(spec_file)], capture_output=True, check=True
        )
        rpms += [str(p) for p in (tmp / "top" / "RPMS").rglob(f"{spec['name']}-*.rpm")]
    subprocess.run(["rpm", "--dbpath", str(dbpath), "--initdb"], check=True, capture_output=True)
    cmd = ["rpm", "--dbpath", str(dbpath), "-i", "--justdb", "--nodeps", "--noscripts", *rpms]
    subprocess.run(cmd, check=True, capture_output=True)
    return (dbpath / "rpmdb.sqlite").read_bytes()


def _spec(name: str, version: str, **kw: str) -> dict[str, str]:
    return {
        "name": name,
        "version": version,
        "release": kw.get("release", "1.el9"),
        "epoch": f"Epoch: {kw['epoch']}\n" if "epoch" in kw else "",
        "license": kw.get("license", "MIT"),
        "vendor": kw.get("vendor", "Rocky Enterprise Software Foundation"),
        "dist": kw.get("dist", name.replace("-", "_")),
    }


def test_real_rpmdb_from_rpmbuild(tmp_path: Path) -> None:
    db = _build_rpmdb(
        tmp_path,
        [
            _spec("python3-requests", "2.25.1", release="6.el9", dist="requests"),
            _spec("cuda-toolkit-sg", "12.4.1", epoch="1", vendor="NVIDIA Corporation", dist="cuda_sg"),
        ],
    )
    raw = run_analyzer(RpmAnalyzer(), "var/lib/rpm/rpmdb.sqlite", db, "sha256:l")
    owned = [f for f in raw if isinstance(f, OwnedFiles)]
    assert {o.package for o in owned} == {"python3-requests", "cuda-toolkit-sg"}
    assert "usr/lib/python3.9/site-packages/requests-2.25.1.dist-info" in owned[0].files + owned[1].files

    facts = inventory(
        {
            "etc/os-release": ROCKY_9,
            "var/lib/rpm/rpmdb.sqlite": db,
            "usr/lib/python3.9/site-packages/requests-2.25.1.dist-info/METADATA": b"Name: requests\nVersion: 2.25.1\n",
            "usr/local/lib/python3.9/site-packages/six-1.16.0.dist-info/METADATA": b"Name: six\nVersion: 1.16.0\n",
        }
    )
    by_name = {p.name: p for p in packages(facts)}
    req = by_name["python3-requests"]
    assert (req.version, req.ecosystem, req.arch, req.licenses) == ("2.25.1-6.el9", "Rocky Linux", "noarch", ("MIT",))
    assert (req.source_name, req.source_version) == ("python3-requests", "2.25.1-6.el9")
    assert req.purl == "pkg:rpm/rocky/python3-requests@2.25.1-6.el9?arch=noarch&distro=rocky-9.3"
    assert extra(req)["osv_ecosystem"] == "Rocky Linux:9"
    cuda = by_name["cuda-toolkit-sg"]
    assert cuda.version == "1:12.4.1-1.el9" and cuda.origin == "third-party" and extra(cuda)["vendor"] == "nvidia"
    assert cuda.purl is not None and "epoch=1" in cuda.purl and cuda.purl.startswith("pkg:rpm/nvidia/")
    assert by_name["requests"].os_managed and extra(by_name["requests"])["os_package"] == "python3-requests"
    assert not by_name["six"].os_managed


def test_split_source_rpm() -> None:
    assert split_source_rpm("openssl-3.0.7-27.el9.src.rpm") == ("openssl", "3.0.7-27.el9")
    assert split_source_rpm("python-requests-2.25.1-6.el9.nosrc.rpm") == ("python-requests", "2.25.1-6.el9")
    assert split_source_rpm("garbage") == (None, None)
    assert split_source_rpm(None) == (None, None)


# Hand-built headers following lib/header.c, for the hostile cases rpmbuild never writes.
def _header(entries: list[tuple[int, int, object]], *, region: bool = True) -> bytes:
    index: list[tuple[int, int, int, int]] = []
    data = bytearray()
    for tag, typ, value in entries:
        if typ == rh.T_INT32:
            while len(data) % 4:
                data.append(0)
            values = value if isinstance(value, list) else [value]
            index.append((tag, typ, len(data), len(values)))
            data += struct.pack(f">{len(values)}i", *values)
        elif typ in (rh.T_STRING_ARRAY, rh.T_I18NSTRING):
            assert isinstance(value, list)
            index.append((tag, typ, len(data), len(value)))
            for s in value:
                data += s.encode() + b"\0"
        else:
            index.append((tag, typ, len(data), 1))
            data += str(value).encode() + b"\0"
    if region:  # HEADER_IMMUTABLE region tag whose trailer sits at the end of the store
        index.insert(0, (63, 7, len(data), 16))
        data += struct.pack(">IIiI", 63, 7, -16 * (len(index)), 16)
    blob = struct.pack(">II", len(index), len(data))
    for entry in index:
        blob += struct.pack(">IIiI", *entry)
    return blob + bytes(data)


BASIC = [
    (rh.NAME, rh.T_STRING, "bash"),
    (rh.VERSION, rh.T_STRING, "5.1.8"),
    (rh.RELEASE, rh.T_STRING, "9.el9"),
    (rh.ARCH, rh.T_STRING, "x86_64"),
    (rh.LICENSE, rh.T_STRING, "GPLv3+"),
    (rh.SOURCERPM, rh.T_STRING, "bash-5.1.8-9.el9.src.rpm"),
    (rh.DIRNAMES, rh.T_STRING_ARRAY, ["/usr/bin/", "/usr/lib/python3.9/site-packages/x-1.dist-info/"]),
    (rh.BASENAMES, rh.T_STRING_ARRAY, ["bash", "METADATA"]),
    (rh.DIRINDEXES, rh.T_INT32, [0, 1]),
]


def _db(blobs: list[bytes]) -> bytes:
    con = sqlite3.connect(":memory:")
    con.execute("CREATE TABLE Packages (hnum INTEGER PRIMARY KEY AUTOINCREMENT, blob BLOB NOT NULL)")
    con.executemany("INSERT INTO Packages (blob) VALUES (?)", [(b,) for b in blobs])
    con.commit()
    return con.serialize()


def test_handbuilt_header_decodes() -> None:
    h = rh.RpmHeader(_header(BASIC))
    assert h.string(rh.NAME) == "bash" and h.int32(rh.EPOCH) is None
    assert h.file_paths() == ["/usr/bin/bash", "/usr/lib/python3.9/site-packages/x-1.dist-info/METADATA"]


def test_hostile_headers_are_skipped_with_a_notice() -> None:
    good = _header(BASIC)
    il, dl = struct.unpack_from(">II", good)
    cases = [
        b"\x00",  # too short
        struct.pack(">II", 0xFFFFFFFF, 0xFFFFFFFF) + b"\0" * 64,  # huge counts
        struct.pack(">II", 2, 10**6) + good[8:],  # data store runs past the blob
        good[: len(good) - 5],  # truncated store
        _header([(rh.NAME, rh.T_STRING, "x"), (rh.VERSION, rh.T_STRING, "1")], region=False)[:-1]
        + b"A",  # unterminated
        _header([*BASIC[:-1], (rh.DIRINDEXES, rh.T_INT32, [0, 99])]),  # dir index out of range
        _header([*BASIC[:-1], (rh.DIRINDEXES, rh.T_INT32, [0])]),  # lists disagree
    ]
    # An int32 array whose count runs past the store.
    bad_count = bytearray(_header(BASIC))
    for i in range(il):
        tag, typ, off, _cnt = struct.unpack_from(">IIiI", bad_count, 8 + 16 * i)
        if tag == rh.DIRINDEXES:
            struct.pack_into(">IIiI", bad_count, 8 + 16 * i, tag, typ, off, dl)
    cases.append(bytes(bad_count))
    facts = run_analyzer(RpmAnalyzer(), "var/lib/rpm/rpmdb.sqlite", _db([good, *cases]), None)
    assert [p.name for p in facts if isinstance(p, Package)] == ["bash"]
    [notice] = [f for f in facts if isinstance(f, InventoryNotice)]
    assert notice.message == f"{len(cases)} malformed rpm header(s) skipped"


def test_out_of_range_offsets_are_ignored_not_followed() -> None:
    blob = bytearray(_header(BASIC, region=False))
    # point NAME's offset far outside the store and negative
    struct.pack_into(">IIiI", blob, 8, rh.NAME, rh.T_STRING, 10**8, 1)
    struct.pack_into(">IIiI", blob, 24, rh.VERSION, rh.T_STRING, -5, 1)
    h = rh.RpmHeader(bytes(blob))
    assert h.string(rh.NAME) is None and h.string(rh.VERSION) is None
    assert run_analyzer(RpmAnalyzer(), "var/lib/rpm/rpmdb.sqlite", _db([bytes(blob)]), None) == []


def test_gpg_pubkey_pseudo_packages_are_skipped() -> None:
    key = _header([(rh.NAME, rh.T_STRING, "gpg-pubkey"), (rh.VERSION, rh.T_STRING, "fd431d51")])
    assert run_analyzer(RpmAnalyzer(), "var/lib/rpm/rpmdb.sqlite", _db([key]), None) == []


def test_not_sqlite_or_wrong_schema_is_a_parse_error() -> None:
    a = RpmAnalyzer()
    with pytest.raises(ParseError):
        run_analyzer(a, "var/lib/rpm/rpmdb.sqlite", b"\x00" * 100, None)
    with pytest.raises(ParseError):
        run_analyzer(a, "var/lib/rpm/rpmdb.sqlite", b"SQLite format 3\x00" + b"\xff" * 200, None)
    con = sqlite3.connect(":memory:")
    con.execute("CREATE TABLE Other (x)")
    with pytest.raises(ParseError):
        run_analyzer(a, "var/lib/rpm/rpmdb.sqlite", con.serialize(), None)


def test_hostile_view_cannot_run_forever() -> None:
    con = sqlite3.connect(":memory:")
    con.execute(
        "CREATE VIEW Packages AS WITH RECURSIVE c(blob) AS (SELECT x'00' UNION ALL SELECT blob FROM c) SELECT blob FROM c"
    )
    with pytest.raises(ParseError):
        run_analyzer(RpmAnalyzer(), "var/lib/rpm/rpmdb.sqlite", con.serialize(), None)


def test_ndb_is_reported_unsupported_without_reading_it() -> None:
    a = RpmAnalyzer()
    assert not a.required("var/lib/rpm/Packages.db", 10**7)
    assert a.required("var/lib/rpm/rpmdb.sqlite", 10**7) and a.required("usr/lib/sysimage/rpm/rpmdb.sqlite", 1)
    assert a.required("var/lib/rpm/Packages", 10**7)
    from inventory_harness import finalize

    facts, files = inventory({"etc/os-release": ROCKY_9}), {"usr/lib/sysimage/rpm/Packages.db": "sha256:x"}
    notices = [f for f in finalize(facts, files) if isinstance(f, InventoryNotice)]
    assert notices and "ndb" in notices[0].message


def _berkeley_db(tmp: Path, blobs: list[bytes], page_size: int = 4096) -> bytes:
    """A real BerkeleyDB hash database written by libdb's own db_load, holding the given values."""
    tool = shutil.which("db5.3_load") or shutil.which("db_load")
    if tool is None:
        pytest.skip("db_load not installed (apt-get install db5.3-util)")
    lines = ["VERSION=3", "format=bytevalue", "type=hash", f"db_pagesize={page_size}", "HEADER=END"]
    for i, blob in enumerate(blobs, start=1):
        lines += [" " + struct.pack("<I", i).hex(), " " + blob.hex()]
    (tmp / "dump.txt").write_text("\n".join([*lines, "DATA=END"]) + "\n")
    subprocess.run([tool, "-f", str(tmp / "dump.txt"), str(tmp / "Packages")], check=True, capture_output=True)
    return (tmp / "Packages").read_bytes()


def test_real_berkeley_db_with_real_rpm_headers(tmp_path: Path) -> None:
    sqlite_db = _build_rpmdb(
        tmp_path, [_spec("python3-six", "1.15.0", release="9.el8", dist="six", vendor="Red Hat, Inc.")]
    )
    from shareguard.image.analyzers.rpm import _open_blob_rows

    [real_header] = _open_blob_rows("x", sqlite_db)
    small = _header(BASIC)  # small enough to be stored inline (H_KEYDATA), the real one overflows
    bdb = _berkeley_db(tmp_path, [real_header, small, real_header], page_size=1024)
    facts = inventory(
        {
            "etc/os-release": b'ID="rhel"\nVERSION_ID="8.9"\n',
            "var/lib/rpm/Packages": bdb,
            "usr/lib/python3.9/site-packages/six-1.15.0.dist-info/METADATA": b"Name: six\nVersion: 1.15.0\n",
        }
    )
    names = sorted(p.name for p in packages(facts))
    assert names == ["bash", "python3-six", "python3-six", "six"]
    six = {p.name: p for p in packages(facts)}["six"]
    # the pip-looking file belongs to the rpm package, found from the BerkeleyDB file lists
    assert six.os_managed and extra(six)["os_package"] == "python3-six"
    rpm_six = next(p for p in packages(facts) if p.name == "python3-six")
    assert rpm_six.ecosystem == "Red Hat" and rpm_six.purl is not None and rpm_six.purl.startswith("pkg:rpm/redhat/")


def test_hostile_berkeley_db(tmp_path: Path) -> None:
    from shareguard.image.analyzers import rpm_bdb

    a = RpmAnalyzer()
    with pytest.raises(ParseError):
        run_analyzer(a, "var/lib/rpm/Packages", b"\x00" * 100, None)
    with pytest.raises(ParseError):
        run_analyzer(a, "var/lib/rpm/Packages", b"\x00" * 4096, None)  # no magic
    good = _berkeley_db(tmp_path, [_header(BASIC) * 3], page_size=512)
    order = "<"
    bad_size = bytearray(good)
    struct.pack_into(f"{order}I", bad_size, 20, 1000)
    with pytest.raises(rpm_bdb.BdbError):
        list(rpm_bdb.values(bytes(bad_size)))
    # every overflow page made to point at itself: a loop, detected
    looped = bytearray(good)
    for pgno in range(1, len(good) // 512):
        if looped[pgno * 512 + 25] == 7:
            struct.pack_into(f"{order}I", looped, pgno * 512 + 16, pgno)
            struct.pack_into(f"{order}H", looped, pgno * 512 + 22, 1)
    with pytest.raises(rpm_bdb.BdbError):
        list(rpm_bdb.values(bytes(looped)))
    # a hash page whose entry count cannot fit the page
    counted = bytearray(good)
    for pgno in range(1, len(good) // 512):
        if counted[pgno * 512 + 25] in (2, 13):
            struct.pack_into(f"{order}H", counted, pgno * 512 + 20, 60000)
    with pytest.raises(rpm_bdb.BdbError):
        list(rpm_bdb.values(bytes(counted)))
    # truncation anywhere: an error or fewer values, never a crash
    for cut in range(0, len(good), 97):
        with contextlib.suppress(rpm_bdb.BdbError):
            list(rpm_bdb.values(good[:cut]))
