"""`TarStream.read_chunk`: the public chunked read of a member's body (what `layer.spool_body` uses)."""

from __future__ import annotations

import io
import tarfile

import pytest

from shareguard.sources.image.tarstream import CorruptLayer, TarStream


def _tar(members: list[tuple[str, bytes]]) -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as tf:
        for name, data in members:
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tf.addfile(info, io.BytesIO(data))
    return buf.getvalue()


@pytest.mark.parametrize("chunk", [512, 4096, 1 << 20])
def test_read_chunk_returns_the_body_in_pieces_of_at_most_one_buffer(chunk: int) -> None:
    big = bytes(range(256)) * 40_000  # 10 MB
    stream = TarStream(io.BytesIO(_tar([("a", big), ("b", b"tail")])), chunk=chunk)
    out: dict[str, bytes] = {}
    for member in stream:
        assert stream.body_left == member.size
        parts = []
        while piece := stream.read_chunk(1 << 30):
            assert len(piece) <= chunk
            parts.append(piece)
        assert stream.body_left == 0
        out[member.name] = b"".join(parts)
    assert out == {"a": big, "b": b"tail"}


def test_read_chunk_part_way_then_next_member() -> None:
    stream = TarStream(io.BytesIO(_tar([("a", b"x" * 5000), ("b", b"yz")])), chunk=1024)
    names = []
    for member in stream:
        names.append(member.name)
        if member.name == "a":
            assert stream.read_chunk(100) == b"x" * 100
            assert stream.body_left == 4900
        else:
            assert stream.read_body() == b"yz"
    assert names == ["a", "b"]


def test_read_chunk_of_a_truncated_body_is_corrupt() -> None:
    data = _tar([("a", b"x" * 5000)])[: 512 * 3 + 100]
    stream = TarStream(io.BytesIO(data), chunk=1024)
    with pytest.raises(CorruptLayer):
        for _member in stream:
            while stream.read_chunk(4096):
                pass
