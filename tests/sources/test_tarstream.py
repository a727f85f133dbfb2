"""The streaming tar reader against archives written by Python's tarfile (ustar, GNU and pax)."""

from __future__ import annotations

import contextlib
import io
import tarfile

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from shareguard.sources.image.tarstream import CorruptLayer, TarStream, byte_sum


def _tar(members: list[tuple[str, bytes]], fmt: int) -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=fmt) as tf:
        for name, data in members:
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tf.addfile(info, io.BytesIO(data))
    return buf.getvalue()


def _read_all(data: bytes, chunk: int = 1 << 20) -> list[tuple[str, bytes]]:
    stream = TarStream(io.BytesIO(data), chunk=chunk)
    return [(m.name, stream.read_body()) for m in stream]


@pytest.mark.parametrize("fmt", [tarfile.USTAR_FORMAT, tarfile.GNU_FORMAT, tarfile.PAX_FORMAT])
def test_reads_what_tarfile_wrote(fmt: int) -> None:
    long_dir = "usr/lib/python3/dist-packages/" + "d" * 60 + "/sub"
    members = [("etc/os-release", b"ID=debian\n"), (f"{long_dir}/METADATA", b"Name: x\n" * 100), ("empty", b"")]
    assert _read_all(_tar(members, fmt)) == members


def test_long_names_and_links_in_gnu_and_pax() -> None:
    name = "a/" * 80 + "file.txt"
    for fmt in (tarfile.GNU_FORMAT, tarfile.PAX_FORMAT):
        buf = io.BytesIO()
        with tarfile.open(fileobj=buf, mode="w", format=fmt) as tf:
            info = tarfile.TarInfo("link")
            info.type = tarfile.SYMTYPE
            info.linkname = "/" + "t/" * 70 + "target"
            tf.addfile(info)
            data = b"x" * 10
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tf.addfile(info, io.BytesIO(data))
        stream = TarStream(io.BytesIO(buf.getvalue()))
        got = list(stream)
        assert got[0].linkname == "/" + "t/" * 70 + "target"
        assert got[1].name == name


def test_pax_unicode_names() -> None:
    members = [("usr/share/doc/naïve-ü/README", b"hello")]
    assert _read_all(_tar(members, tarfile.PAX_FORMAT)) == members


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.lists(
        st.tuples(
            st.text(st.characters(min_codepoint=48, max_codepoint=122), min_size=1, max_size=150),
            st.binary(max_size=3000),
        ),
        max_size=12,
        unique_by=lambda m: m[0],
    ),
    st.sampled_from([tarfile.GNU_FORMAT, tarfile.PAX_FORMAT]),
    st.sampled_from([512, 4096, 1 << 20]),
)
def test_matches_tarfile_property(members: list[tuple[str, bytes]], fmt: int, chunk: int) -> None:
    members = [(n.strip("/") or "x", d) for n, d in members]
    data = _tar(members, fmt)
    with tarfile.open(fileobj=io.BytesIO(data)) as tf:
        expected = [(m.name, tf.extractfile(m).read()) for m in tf.getmembers()]  # type: ignore[union-attr]
    assert _read_all(data, chunk) == expected


@settings(max_examples=150, deadline=None)
@given(st.binary(max_size=4096))
def test_garbage_never_crashes(data: bytes) -> None:
    with contextlib.suppress(CorruptLayer):
        _read_all(data)


def test_truncated_body_is_corrupt() -> None:
    data = _tar([("big", b"x" * 5000)], tarfile.PAX_FORMAT)
    with pytest.raises(CorruptLayer, match="truncated"):
        _read_all(data[:2048])


def test_bad_checksum_is_corrupt() -> None:
    data = bytearray(_tar([("f", b"x")], tarfile.USTAR_FORMAT))
    data[0] ^= 0xFF
    with pytest.raises(CorruptLayer, match="checksum"):
        _read_all(bytes(data))


def test_declared_huge_size_without_data_is_corrupt() -> None:
    info = tarfile.TarInfo("huge")
    info.size = 1 << 40
    header = info.tobuf(tarfile.GNU_FORMAT)
    with pytest.raises(CorruptLayer, match="truncated"):
        _read_all(header + b"\0" * 4096)


def test_oversized_pax_header_is_refused() -> None:
    info = tarfile.TarInfo("././@PaxHeader")
    info.type = tarfile.XHDTYPE
    info.size = 64 * 1024 * 1024
    header = info.tobuf(tarfile.USTAR_FORMAT)
    with pytest.raises(CorruptLayer, match="limit"):
        _read_all(header + b"\0" * 1024)


def test_skips_unread_bodies_without_reading_them_into_objects() -> None:
    data = _tar([("a", b"1" * 100_000), ("b", b"2" * 10)], tarfile.PAX_FORMAT)
    stream = TarStream(io.BytesIO(data), chunk=4096)
    names = []
    for m in stream:
        names.append(m.name)
        if m.name == "b":
            assert stream.read_body() == b"2" * 10
    assert names == ["a", "b"]


@settings(max_examples=300, deadline=None)
@given(st.binary(min_size=512, max_size=512))
def test_byte_sum_is_exact(block: bytes) -> None:
    assert byte_sum(block) == sum(block)


def test_byte_sum_extremes() -> None:
    for block in (bytes(512), b"\xff" * 512, b"\x01" * 512, bytes(range(256)) * 2, b"\xfe" * 256 + b"\x00" * 256):
        assert byte_sum(block) == sum(block)


def test_header_checksum_mismatch_is_caught_even_by_a_multiple_of_the_adler_modulus() -> None:
    # A checksum field off by exactly 65521 must still be refused (the fast sum is exact).
    data = bytearray(_tar([("f", b"x")], tarfile.USTAR_FORMAT))
    stored = int(bytes(data[148:154]), 8)
    data[148:156] = f"{stored + 65521:06o}\0 ".encode()[:8]
    with pytest.raises(CorruptLayer, match="checksum"):
        _read_all(bytes(data))


class _Skipping:
    """A reader that can pass over bytes without copying them (as the inflaters can)."""

    def __init__(self, data: bytes) -> None:
        self._io = io.BytesIO(data)
        self.skipped = 0

    def readinto(self, buffer: memoryview) -> int:
        return self._io.readinto(buffer)

    def skip(self, n: int) -> int:
        k = len(self._io.read(min(n, 1 << 16)))
        self.skipped += k
        return k


def test_unread_bodies_are_skipped_not_copied_and_still_counted() -> None:
    members = [("big.bin", b"\1" * (3 << 20)), ("small", b"kept"), ("other.bin", b"\2" * (2 << 20))]
    data = _tar(members, tarfile.PAX_FORMAT)
    reader = _Skipping(data)
    stream = TarStream(reader, chunk=1 << 16)
    seen = {m.name: (stream.read_body() if m.name == "small" else None) for m in stream}
    stream.drain()
    assert seen == {"big.bin": None, "small": b"kept", "other.bin": None}
    assert reader.skipped >= (5 << 20) - (1 << 17)
    assert stream.bytes_read == len(data)
    with pytest.raises(CorruptLayer, match="decompression bomb"):
        bomb = TarStream(_Skipping(data), chunk=1 << 16, max_bytes=1 << 20)
        for _ in bomb:
            pass


def _with_checksum(header: bytearray, delta: int = 0) -> bytes:
    """`header` with its checksum field set to the true unsigned sum + `delta` (a 6-digit octal)."""
    header[148:156] = b" " * 8
    header[148:156] = f"{sum(header) + delta:06o}\0 ".encode()
    return bytes(header)


@settings(max_examples=200, deadline=None)
@given(
    fill=st.binary(min_size=355, max_size=355).map(lambda b: bytes(c | 0x01 for c in b)),
    delta=st.sampled_from([0, 65521, -65521]),
    nonzero=st.integers(min_value=200, max_value=355),
)
def test_checksum_of_sparse_and_dense_headers_is_exact(fill: bytes, delta: int, nonzero: int) -> None:
    # Headers with fewer than 256 non-NUL bytes take the adler32-only path, denser ones the parity
    # path: either way a checksum field off by the adler modulus is refused, the true sum accepted.
    header = bytearray(_tar([("f", b"")], tarfile.USTAR_FORMAT)[:512])
    dense = fill[:nonzero] + bytes(355 - nonzero)
    header[0:100] = dense[:100]  # name
    header[157:257] = dense[100:200]  # linkname
    header[345:500] = dense[200:355]  # prefix
    total = sum(header) - sum(header[148:156]) + 256
    if not 0 <= total + delta < 8**6:
        return
    stream = TarStream(io.BytesIO(_with_checksum(header, delta) + bytes(1024)))
    if delta:
        with pytest.raises(CorruptLayer, match="checksum"):
            list(stream)
    else:
        assert len(list(stream)) == 1
