"""Readers: CSV/TSV by column, JSON/JSONL by field path, Parquet by column, compressed streams and archives,
and bounded outcomes for hostile input."""

from __future__ import annotations

import bz2
import gzip
import io
import lzma
import tarfile
import zipfile

import pytest
import zstandard
from hypothesis import given, settings
from hypothesis import strategies as st
from tests.sensitive.planted import planted

from shareguard.sensitive.engine import engine
from shareguard.sensitive.formats import Limits, Scanner

P = planted()


def scan(name: str, data: bytes, **limits: int):  # type: ignore[no-untyped-def]
    return Scanner(engine(), Limits(**limits)).scan(name, data)


def by_detector(outcome) -> dict[str, list]:  # type: ignore[no-untyped-def]
    out: dict[str, list] = {}
    for loc in outcome.hits:
        out.setdefault(loc.hit.detector.id, []).append(loc)
    return out


def test_csv_columns_give_context_and_locations() -> None:
    data = (
        "id;full_name;date_of_birth;passport;email\n"
        f"1;Jane Roe;1984-02-17;X1234567;{P.email}\n"
        "2;John Roe;17/03/1990;Y7654321;none\n"
    ).encode()
    found = by_detector(scan("people.csv", data))
    dob = found["date_of_birth"]
    assert [(loc.location.line, loc.location.field_path, loc.location.record) for loc in dob] == [
        (2, "date_of_birth", "1"),
        (3, "date_of_birth", "2"),
    ]
    assert len(found["passport_number"]) == 2
    email = found["email"][0]
    assert email.location.field_path == "email" and email.hit.context  # the column name is context


def test_tsv_and_quoted_cells() -> None:
    data = b'name\taddress\tdob\n"Roe, Jane"\t"12 Sample Street, Springfield"\t1984-02-17\n'
    found = by_detector(scan("x.tsv", data))
    assert found["street_address"][0].location.field_path == "address"
    assert found["date_of_birth"][0].location.field_path == "dob"


def test_jsonl_and_json_give_field_paths() -> None:
    data = ('{"a": 1}\n{"user": {"contact": "' + P.email + '"}, "token": "' + P.github + '"}\n').encode()
    found = by_detector(scan("events.jsonl", data))
    assert found["email"][0].location.field_path == "user.contact"
    assert found["email"][0].location.line == 2
    assert found["github_token"][0].location.field_path == "token"
    nb = ('{"cells": [{"source": ["x = 1\\n", "key = \\"' + P.aws_key_id + '\\"\\n"]}]}').encode()
    found = by_detector(scan("nb.ipynb", nb))
    assert found["aws_access_key_id"][0].location.field_path == "cells[0].source[1]"


def test_parquet_columns(tmp_path) -> None:  # type: ignore[no-untyped-def]
    import datetime

    import pyarrow as pa
    import pyarrow.parquet as pq

    table = pa.table(
        {
            "email": [P.email, "nobody"],
            "birth_date": [datetime.date(1984, 2, 17), datetime.date(1990, 3, 17)],
            "note": ["fine", f"card {P.card}"],
        }
    )
    buf = io.BytesIO()
    pq.write_table(table, buf, row_group_size=1)
    found = by_detector(scan("t.parquet", buf.getvalue()))
    assert [(loc.location.field_path, loc.location.record) for loc in found["email"]] == [("email", "0")]
    assert [loc.location.record for loc in found["date_of_birth"]] == ["0", "1"]
    assert [(loc.location.field_path, loc.location.record) for loc in found["credit_card"]] == [("note", "1")]


@pytest.mark.parametrize(
    ("name", "pack"),
    [
        ("x.txt.gz", gzip.compress),
        ("x.txt.bz2", bz2.compress),
        ("x.txt.xz", lzma.compress),
        ("x.txt.zst", lambda b: zstandard.ZstdCompressor().compress(b)),
    ],
)
def test_compressed_streams(name: str, pack) -> None:  # type: ignore[no-untyped-def]
    found = by_detector(scan(name, pack(f"x\ncard {P.card}\n".encode())))
    assert found["credit_card"][0].location.line == 2


def _zip(members: dict[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        for n, b in members.items():
            zf.writestr(n, b)
    return buf.getvalue()


def test_archives_and_members() -> None:
    inner = _zip({"deep/secret.env": f"TOKEN={P.github}\n".encode()})
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as tf:
        info = tarfile.TarInfo("bundle/inner.zip")
        info.size = len(inner)
        tf.addfile(info, io.BytesIO(inner))
    found = by_detector(scan("release.tgz", buf.getvalue()))
    assert found["github_token"][0].location.member == "bundle/inner.zip!deep/secret.env"


def test_archive_nesting_past_the_limit_is_a_skip_not_a_crash() -> None:
    data = f"TOKEN={P.github}\n".encode()
    for i in range(6):
        data = _zip({f"level{i}.zip" if i else "s.env": data})
    outcome = scan("nested.zip", data)
    assert not outcome.hits and any("nested deeper" in why for _, why in outcome.skips)


def test_decompression_bomb_is_stopped() -> None:
    bomb = gzip.compress(b"\0" * (64 << 20))
    outcome = scan("bomb.txt.gz", bomb)
    assert not outcome.hits and any("bomb" in why for _, why in outcome.skips)


def test_truncated_and_corrupt_containers_are_skips() -> None:
    good = gzip.compress(f"card {P.card}\n".encode() * 10)
    for name, data in (
        ("a.gz", good[: len(good) // 2]),
        ("b.zip", b"PK\x03\x04" + b"\x00" * 40),
        ("c.parquet", b"PAR1xx"),
    ):
        outcome = scan(name, data)
        assert outcome.skips, name


def test_binary_and_invalid_utf8() -> None:
    assert scan("x.bin", b"\x00\x01" * 100).skips
    data = b"\xff\xfe broken \xc3( " + P.email.encode() + b" \xed\xa0\x80"
    found = by_detector(scan("x.txt", data))
    assert found["email"][0].hit.value == P.email


def test_a_long_single_line_is_scanned_in_bounded_time() -> None:
    data = b"x" * (32 << 20) + P.email.encode()
    found = by_detector(scan("one-line.txt", data))
    assert found["email"][0].location.line == 1


@settings(max_examples=100, deadline=None)
@given(
    text=st.lists(st.sampled_from(["a ", "\n", "x@example.org", "é", "\r\n", "4111 1111 1111 1111", " "]), max_size=60)
)
def test_line_numbers_are_the_same_counted_by_numpy_or_bytes_count(text: list[str]) -> None:
    """Large blocks count newlines with numpy, small ones with `bytes.count`: the same lines and columns."""
    from shareguard.sensitive.formats import _lines

    data = "".join(text).encode()
    hits = engine().scan(data)
    by_count = _lines(data, hits, vectorised_from=len(data) + 1)
    by_numpy = _lines(data, hits, vectorised_from=0)
    assert by_count == by_numpy
    for h, line, column in by_numpy:
        assert line == data[: h.start].count(b"\n") + 1
        assert column == h.start - data.rfind(b"\n", 0, h.start)
