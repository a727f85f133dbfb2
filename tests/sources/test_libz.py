"""The libz inflater (worker thread, buffer ring) against the zlib module on the same streams."""

from __future__ import annotations

import gzip
import io
import queue
import sys
import threading
import zlib

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from shareguard.sources.image import libz as libz_module
from shareguard.sources.image.decompress import DecompressError
from shareguard.sources.image.libz import SLOT, LibzReader, Ring, load, quick_handoff

libz = load()
pytestmark = pytest.mark.skipif(libz is None, reason="no system libz")


class Trickle:
    """A source that returns at most `step` bytes per read (members and magic split across reads)."""

    def __init__(self, data: bytes, step: int) -> None:
        self._io = io.BytesIO(data)
        self._step = step

    def read(self, n: int = -1) -> bytes:
        return self._io.read(min(n, self._step) if n >= 0 else self._step)


def _inflate(data: bytes, step: int = 1 << 20) -> bytes:
    assert libz is not None
    reader = LibzReader(libz, Trickle(data, step))
    out = bytearray()
    buf = memoryview(bytearray(1 << 16))
    try:
        while k := reader.readinto(buf):
            out += buf[:k]
    finally:
        reader.close()
    return bytes(out)


@settings(max_examples=60, deadline=None)
@given(
    members=st.lists(st.binary(max_size=3000), min_size=1, max_size=4),
    padding=st.integers(0, 1100),
    step=st.sampled_from([1, 2, 3, 7, 512, 1 << 20]),
)
def test_same_bytes_as_zlib_for_multi_member_padded_streams(members: list[bytes], padding: int, step: int) -> None:
    data = b"".join(gzip.compress(m) for m in members) + b"\0" * padding
    assert _inflate(data, step) == b"".join(members)


def test_output_larger_than_the_ring() -> None:
    payload = bytes(range(256)) * (3 * SLOT // 256 + 17)  # spans several 8 MiB buffers
    assert _inflate(gzip.compress(payload, 1)) == payload


@pytest.mark.parametrize("step", [1, 1 << 20])
def test_truncated(step: int) -> None:
    data = gzip.compress(b"x" * 100_000)
    with pytest.raises(DecompressError, match="truncated gzip stream"):
        _inflate(data[: len(data) // 2], step)
    with pytest.raises(DecompressError, match="truncated gzip stream"):
        _inflate(b"", step)


def test_corrupt() -> None:
    data = bytearray(gzip.compress(b"hello world" * 1000))
    data[20:30] = b"\xff" * 10
    with pytest.raises(DecompressError, match="corrupt gzip stream"):
        _inflate(bytes(data))


@pytest.mark.parametrize("tail", [b"garbage", b"\0\0\0x", b"\x1f"])
def test_trailing_garbage(tail: bytes) -> None:
    with pytest.raises(DecompressError, match=r"trailing garbage|truncated"):
        _inflate(gzip.compress(b"abc") + tail, 2)


def test_not_gzip() -> None:
    with pytest.raises(DecompressError, match="corrupt gzip stream"):
        _inflate(zlib.compress(b"zlib, not gzip"))


def test_stopping_early_releases_the_worker() -> None:
    assert libz is not None
    payload = b"\0" * (40 * SLOT)  # a bomb-like stream: 320 MiB of zeros
    reader = LibzReader(libz, io.BytesIO(gzip.compress(payload, 9)))
    buf = memoryview(bytearray(1 << 20))
    assert reader.readinto(buf) > 0
    reader.close()  # must not hang with the ring full


def test_many_tiny_members_stay_linear() -> None:
    # 200k one-byte members (~4 MB): copying the rest of the input at every member boundary would be
    # quadratic (hours); the whole stream must inflate in seconds.
    member = gzip.compress(b"x", mtime=0)
    data = member * 200_000
    assert _inflate(data) == b"x" * 200_000


def _read_all(reader: LibzReader, limit: int | None = None) -> bytes:
    out = bytearray()
    buf = memoryview(bytearray(1 << 20))
    while (limit is None or len(out) < limit) and (k := reader.readinto(buf)):
        out += buf[:k]
    return bytes(out)


def _free_slots(ring: Ring) -> int:
    n = 0
    while True:
        try:
            ring.free.get_nowait()
        except queue.Empty:
            return n
        n += 1


@pytest.mark.parametrize("abandon_first", [False, True])
def test_readers_read_at_once_share_one_ring(monkeypatch: pytest.MonkeyPatch, abandon_first: bool) -> None:
    """Two layers' inflaters fill one ring smaller than either stream's output while two threads read
    them (layers read at once): each reader gets exactly its own bytes, neither waits for the other for
    ever, and a reader closed half-way (a layer that failed) hands back every buffer it held."""
    assert libz is not None
    monkeypatch.setattr(libz_module, "SLOTS", 2)
    first = bytes(range(256)) * (3 * SLOT // 256 + 5)
    second = bytes(reversed(range(256))) * (3 * SLOT // 256 + 9)
    ring = Ring()
    r1 = LibzReader(libz, io.BytesIO(gzip.compress(first, 1)), ring=ring)
    r2 = LibzReader(libz, io.BytesIO(gzip.compress(second, 1)), ring=ring)
    got: dict[str, bytes] = {}

    def read_second() -> None:
        try:
            got["second"] = _read_all(r2)
        finally:
            r2.close()

    other = threading.Thread(target=read_second)
    other.start()
    try:
        head = _read_all(r1, SLOT // 2 if abandon_first else None)
    finally:
        r1.close()
    other.join(timeout=60)
    assert not other.is_alive()
    assert head == first[: len(head)]
    if not abandon_first:
        assert head == first
    assert got["second"] == second
    assert _free_slots(ring) == 2


def test_quick_handoff_lowers_the_switch_interval_and_puts_it_back() -> None:
    before = sys.getswitchinterval()
    try:
        sys.setswitchinterval(0.005)
        with quick_handoff(0.0005):
            assert sys.getswitchinterval() == pytest.approx(0.0005, rel=0.01)
        assert sys.getswitchinterval() == pytest.approx(0.005, rel=0.01)
        sys.setswitchinterval(0.0001)  # never raised
        with quick_handoff(0.0005):
            assert sys.getswitchinterval() == pytest.approx(0.0001, rel=0.01)
        assert sys.getswitchinterval() == pytest.approx(0.0001, rel=0.01)
    finally:
        sys.setswitchinterval(before)


def test_quick_handoff_overlapping_scans_end_at_the_original_interval() -> None:
    """Two scans in threads that overlap, either ending first, leave the interval the caller had; a value the
    caller set meanwhile is kept."""
    before = sys.getswitchinterval()
    try:
        sys.setswitchinterval(0.005)
        a, b = quick_handoff(0.0005), quick_handoff(0.0005)
        a.__enter__()
        b.__enter__()
        a.__exit__(None, None, None)  # the first one ends first
        b.__exit__(None, None, None)
        assert sys.getswitchinterval() == pytest.approx(0.005, rel=0.01)
        a, b = quick_handoff(0.0005), quick_handoff(0.0005)
        a.__enter__()
        b.__enter__()
        b.__exit__(None, None, None)
        a.__exit__(None, None, None)
        assert sys.getswitchinterval() == pytest.approx(0.005, rel=0.01)
        with quick_handoff(0.0005):
            sys.setswitchinterval(0.002)  # the caller's own change wins
        assert sys.getswitchinterval() == pytest.approx(0.002, rel=0.01)
    finally:
        sys.setswitchinterval(before)
