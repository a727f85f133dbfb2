"""Fuzz target (issue #14): tar layer streams, plain and gzip, mutated from valid seeds.

Property: `TarStream` yields members or raises `CorruptLayer`; `stream_layer` yields `LayerEntry`s of the
documented shape or raises `LayerError`, reporting hostile members through `on_issue`; never anything else."""

from __future__ import annotations

import contextlib
import functools
import gzip
import io
import tarfile
from collections.abc import Iterator

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from shareguard.sources.image.layer import (
    DIR,
    FILE,
    HLINK,
    LINK,
    OPAQUE,
    WHITEOUT,
    LayerEntry,
    LayerError,
    stream_layer,
)
from shareguard.sources.image.model import LayerRef
from shareguard.sources.image.tarstream import CorruptLayer, TarStream

FUZZ = settings(max_examples=150, deadline=5000, suppress_health_check=[HealthCheck.too_slow])


def _tar(fmt: int) -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=fmt) as tf:

        def add(name: str, data: bytes = b"", kind: bytes = tarfile.REGTYPE, link: str = "") -> None:
            info = tarfile.TarInfo(name)
            info.type = kind
            info.linkname = link
            info.size = len(data) if kind == tarfile.REGTYPE else 0
            tf.addfile(info, io.BytesIO(data) if kind == tarfile.REGTYPE else None)

        add("etc", kind=tarfile.DIRTYPE)
        add("etc/os-release", b"ID=debian\nVERSION_ID=12\n")
        add("var/lib/dpkg/status", b"Package: libc6\nStatus: install ok installed\nVersion: 2.36-9\n\n" * 3)
        add("usr/lib/" + "d" * 120 + "/METADATA", "Metadata-Version: 2.1\nName: naïve\nVersion: 1.0\n".encode())
        add("usr/bin/sh", kind=tarfile.SYMTYPE, link="../../bin/bash")
        add("usr/bin/hard", kind=tarfile.LNKTYPE, link="etc/os-release")
        add("etc/.wh.old", b"")
        add("opt/.wh..wh..opq", b"")
        add("../escape", b"x")
    return buf.getvalue()


SEEDS = [_tar(tarfile.USTAR_FORMAT), _tar(tarfile.GNU_FORMAT), _tar(tarfile.PAX_FORMAT)]
WANTED = ("etc/os-release", "var/lib/dpkg/status")


@st.composite
def mutated(draw: st.DrawFn, seeds: list[bytes]) -> bytes:
    """A valid seed with byte flips, overwritten numeric fields, inserted or deleted runs, a truncation."""
    data = bytearray(draw(st.sampled_from(seeds)))
    for _ in range(draw(st.integers(0, 6))):
        op = draw(st.sampled_from(["flip", "digits", "insert", "delete", "truncate"]))
        pos = draw(st.integers(0, max(len(data) - 1, 0)))
        if op == "flip" and data:
            data[pos] ^= draw(st.integers(1, 255))
        elif op == "digits":
            data[pos : pos + 12] = draw(
                st.sampled_from([b"77777777777\0", b"\xff" * 12, b"\x80" + b"\xff" * 11, b"-1\0"])
            )
        elif op == "insert":
            data[pos:pos] = draw(st.binary(max_size=600))
        elif op == "delete":
            del data[pos : pos + draw(st.integers(1, 1024))]
        else:
            del data[pos:]
    return bytes(data)


@contextlib.contextmanager
def _open(blob: bytes) -> Iterator[io.BytesIO]:
    yield io.BytesIO(blob)


def _stream(blob: bytes, media_type: str | None) -> None:
    ref = LayerRef(0, "sha256:" + "0" * 64, None, media_type, len(blob), functools.partial(_open, blob))
    issues: list[tuple[str, str, bool]] = []
    try:
        for entry in stream_layer(
            ref,
            lambda p, s: p in WANTED,
            max_member_bytes=1 << 16,
            max_members=1000,
            max_decompressed_bytes=1 << 22,
            on_issue=lambda p, m, e: issues.append((p, m, e)),
            parallel=False,
        ):
            assert isinstance(entry, LayerEntry)
            assert entry.kind in {FILE, DIR, LINK, HLINK, WHITEOUT, OPAQUE}
            assert not entry.path.startswith("/") and not entry.path.startswith("../")
            assert entry.content is None or len(entry.content) == entry.size
    except LayerError:
        pass
    assert all(isinstance(p, str) and isinstance(m, str) and isinstance(e, bool) for p, m, e in issues)


@FUZZ
@given(mutated(SEEDS), st.sampled_from([512, 4096, 1 << 20]))
@example(SEEDS[0][:700], 512)
def test_tarstream_mutated(data: bytes, chunk: int) -> None:
    with contextlib.suppress(CorruptLayer):
        stream = TarStream(io.BytesIO(data), chunk=chunk, max_bytes=1 << 22)
        for member in stream:
            assert isinstance(member.name, str) and member.size >= 0
            body = stream.read_body()
            assert len(body) == member.size or not member.is_file


@FUZZ
@given(mutated(SEEDS))
def test_stream_layer_plain_mutated(data: bytes) -> None:
    _stream(data, None)


@FUZZ
@given(mutated([gzip.compress(s, mtime=0) for s in SEEDS]))
def test_stream_layer_gzip_mutated(blob: bytes) -> None:
    _stream(blob, "application/vnd.oci.image.layer.v1.tar+gzip")


@FUZZ
@given(mutated(SEEDS), st.integers(0, 2))
def test_stream_layer_gzip_of_mutated_tar(data: bytes, level: int) -> None:
    _stream(gzip.compress(data, compresslevel=level, mtime=0), "application/vnd.oci.image.layer.v1.tar+gzip")
