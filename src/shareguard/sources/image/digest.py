"""Content digests (`sha256:<hex>`): parsing, checking bytes, and checking a stream as it is read."""

from __future__ import annotations

import collections
import hashlib
import re
from typing import Any

from shareguard.core.errors import InputError

_DIGEST = re.compile(r"^(sha256|sha512):([a-f0-9]+)$")
_HEX_LEN = {"sha256": 64, "sha512": 128}


class DigestMismatch(Exception):
    """Content does not match the digest or size its descriptor declares."""


def parse_digest(digest: str) -> tuple[str, str]:
    """`sha256:abc…` → (`sha256`, `abc…`); anything else is an InputError (also guards blob paths)."""
    m = _DIGEST.match(digest) if isinstance(digest, str) else None
    if m is None or len(m.group(2)) != _HEX_LEN[m.group(1)]:
        raise InputError(f"invalid digest {str(digest)[:80]!r}")
    return m.group(1), m.group(2)


def digest_of(data: bytes, algorithm: str = "sha256") -> str:
    return f"{algorithm}:{hashlib.new(algorithm, data).hexdigest()}"


def verify_bytes(data: bytes, digest: str, what: str) -> None:
    algorithm, _ = parse_digest(digest)
    actual = digest_of(data, algorithm)
    if actual != digest:
        raise DigestMismatch(f"{what}: content digest {actual} does not match {digest}")


class HashingReader:
    """Wraps a binary stream; at EOF checks the digest (and size) the descriptor declared.

    `deferred`: the stream is read by a decompression worker thread, and hashing there would put
    ~1 s per GB on the critical path of the decompressor; instead the chunks read are queued and
    the consuming thread hashes them in `settle()` (called as it takes decompressed data), where
    a mismatch is also raised.
    """

    def __init__(self, raw: Any, digest: str | None, size: int | None, what: str, *, deferred: bool = False) -> None:
        self._raw = raw
        self._deferred: collections.deque[bytes | None] | None = collections.deque() if deferred else None
        self._what = what
        self._expected = digest
        self._size = size if size is not None and size >= 0 else None
        algorithm = parse_digest(digest)[0] if digest else "sha256"
        self._hash = hashlib.new(algorithm)
        self._algorithm = algorithm
        self.count = 0
        self.verified = False

    def _account(self, chunk: bytes | memoryview) -> None:
        self._hash.update(chunk)
        self.count += len(chunk)
        if self._size is not None and self.count > self._size:
            raise DigestMismatch(f"{self._what}: more than the declared {self._size} bytes")

    def _at_eof(self) -> None:
        if self.verified:
            return
        if self._size is not None and self.count != self._size:
            raise DigestMismatch(f"{self._what}: {self.count} bytes, the descriptor declares {self._size}")
        if self._expected is not None:
            actual = f"{self._algorithm}:{self._hash.hexdigest()}"
            if actual != self._expected:
                raise DigestMismatch(f"{self._what}: content digest {actual} does not match {self._expected}")
        self.verified = True

    def read(self, n: int = -1) -> bytes:
        chunk: bytes = self._raw.read(n)
        if self._deferred is not None:
            if chunk or n != 0:
                self._deferred.append(chunk or None)  # None marks EOF; deque appends are thread-safe
            return chunk
        if chunk:
            self._account(chunk)
        elif n != 0:
            self._at_eof()
        return chunk

    def settle(self) -> None:
        """Hash what the worker has read so far (in order); at its EOF, check digest and size."""
        pending = self._deferred
        if pending is None:
            return
        while pending:
            chunk = pending.popleft()
            if chunk is None:
                self._at_eof()
            else:
                self._account(chunk)

    def readinto(self, buffer: memoryview) -> int:
        k: int = self._raw.readinto(buffer) or 0
        if self._deferred is not None:
            if k or len(buffer):
                self._deferred.append(bytes(buffer[:k]) if k else None)
            return k
        if k:
            self._account(buffer[:k])
        elif len(buffer):
            self._at_eof()
        return k

    def digest(self) -> str:
        return f"{self._algorithm}:{self._hash.hexdigest()}"
