"""HashingReader: digests and sizes checked at EOF, inline or deferred to the consuming thread."""

from __future__ import annotations

import hashlib
import io

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from shareguard.sources.image.digest import DigestMismatch, HashingReader


def _digest(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


def _drain(reader: HashingReader, step: int) -> None:
    while reader.read(step):
        pass


@settings(max_examples=100, deadline=None)
@given(data=st.binary(max_size=5000), step=st.integers(1, 700), settle_every=st.integers(1, 5))
def test_deferred_hash_equals_inline(data: bytes, step: int, settle_every: int) -> None:
    reader = HashingReader(io.BytesIO(data), _digest(data), len(data), "blob", deferred=True)
    n = 0
    while reader.read(step):
        n += 1
        if n % settle_every == 0:
            reader.settle()
    assert not reader.verified  # nothing is checked until the consumer settles
    reader.settle()
    assert reader.verified and reader.digest() == _digest(data)


def test_deferred_mismatch_is_raised_by_settle_not_by_read() -> None:
    data = b"layer bytes" * 100
    reader = HashingReader(io.BytesIO(data), _digest(b"other"), None, "blob x", deferred=True)
    _drain(reader, 64)  # the worker thread's reads never raise
    with pytest.raises(DigestMismatch, match="blob x: content digest"):
        reader.settle()


def test_deferred_size_overflow() -> None:
    data = b"a" * 100
    reader = HashingReader(io.BytesIO(data), None, 10, "blob", deferred=True)
    _drain(reader, 7)
    with pytest.raises(DigestMismatch, match="more than the declared 10 bytes"):
        reader.settle()


def test_inline_mismatch_raises_at_eof() -> None:
    reader = HashingReader(io.BytesIO(b"abc"), _digest(b"abd"), 3, "blob")
    with pytest.raises(DigestMismatch):
        _drain(reader, 2)
