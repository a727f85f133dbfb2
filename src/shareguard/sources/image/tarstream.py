"""A fast, strict, forward-only tar reader for layer streams.

`tarfile` in stream mode copies its whole read buffer on every small read, which makes a layer of
200k small files CPU-bound (~75 µs a member); this reader keeps one reusable buffer, parses the
ustar/GNU/pax headers that image layers use, and skips bodies with `readinto` into scratch memory.
It never seeks, never writes, and reports damage as `CorruptLayer`.
"""

from __future__ import annotations

import struct
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Protocol

BLOCK = 512
MAX_META_BYTES = 1024 * 1024
"""Cap on one GNU long name or pax header (hostile archives declare gigabytes)."""

REGULAR, HARDLINK, SYMLINK, CHARDEV, BLOCKDEV, DIRECTORY, FIFO = "0", "1", "2", "3", "4", "5", "6"
_REGULAR_TYPES = frozenset({"0", "\0", "7"})
_NO_BODY = frozenset({HARDLINK, SYMLINK, CHARDEV, BLOCKDEV, DIRECTORY, FIFO})
_TYPEFLAGS = {bytes([c]): chr(c) for c in range(0x20, 0x7F)} | {b"\0": "0"}
"""Type flag byte → its one-character string (NUL is a regular file, as `0`)."""


class CorruptLayer(Exception):
    """The stream is not a valid tar (bad header, checksum, truncation)."""


class Readable(Protocol):
    def readinto(self, buffer: memoryview) -> int | None: ...


@dataclass(slots=True)
class TarMember:
    name: str
    type: str
    """One of the type flag constants; regular files are normalised to `0`."""
    size: int
    linkname: str

    @property
    def is_file(self) -> bool:
        return self.type == REGULAR

    @property
    def is_dir(self) -> bool:
        return self.type == DIRECTORY


def _octal(field: bytes) -> int:
    if field and field[0] & 0x80:  # GNU base-256 for large values
        value = int.from_bytes(field[1:], "big")
        if field[0] & 0x40:
            raise CorruptLayer("negative number in tar header")
        return value
    end = field.find(0)
    text = (field if end < 0 else field[:end]).strip()
    if not text:
        return 0
    try:
        return int(text, 8)
    except ValueError:
        raise CorruptLayer(f"bad number {text[:20]!r} in tar header") from None


_HEADER = struct.Struct("100s24x12s12x8s1s100s6s82x155s12x")
"""name, size, chksum, typeflag, linkname, magic, prefix of a ustar/GNU header."""


def _size(field: bytes) -> int:
    # Fast path: 11 octal digits and a NUL or space, as GNU tar, Go and Docker write sizes.
    if field[11] in (0, 32) and field[0] < 0x80:
        try:
            return int(field[:11], 8)
        except ValueError:
            pass
    return _octal(field)


def _text(field: bytes) -> str:
    end = field.find(0)
    return (field if end < 0 else field[:end]).decode("utf-8", "surrogateescape")


_ADLER_MOD = 65521
_LOW_BITS = int.from_bytes(b"\x01" * BLOCK, "little")


def byte_sum(block: bytes | bytearray | memoryview) -> int:
    """Exact sum of a 512-byte block's bytes, ~4x faster than `sum()` (this runs once per tar member).

    adler32's low half is 1 + the byte sum modulo 65521; the sum is below 2 x 65521 (512 x 255), so
    it is that residue or the residue + 65521, and the two differ in parity; the parity of the sum
    is the parity of the number of odd bytes.
    """
    residue = ((zlib.adler32(block) & 0xFFFF) - 1) % _ADLER_MOD
    odd = (int.from_bytes(block, "little") & _LOW_BITS).bit_count()
    return residue if (residue ^ odd) & 1 == 0 else residue + _ADLER_MOD


_SPARSE_MAX = _ADLER_MOD // 255
"""A block with fewer non-zero bytes than this sums to less than 65521: adler32 gives the sum exactly."""
_DENSE = BLOCK - _SPARSE_MAX
"""A header with more NUL bytes than this has fewer than `_SPARSE_MAX` others."""


def _fast_checksum_ok(header: memoryview, field: bytes, nonzero: int = BLOCK) -> bool:
    """`nonzero`: how many bytes of the header are not NUL (a typical header has ~150-250 of 512: its
    byte sum is then adler32's residue, no parity needed)."""
    if field[6] in (0, 32):  # 6 octal digits, NUL, space: the usual layout
        try:
            stored = int(field[:6], 8)
        except ValueError:
            return _checksum_ok(header)
        sparse = nonzero < _SPARSE_MAX
        total = ((zlib.adler32(header) & 0xFFFF) - 1) % _ADLER_MOD if sparse else byte_sum(header)
        if stored == total - sum(field) + 8 * 32:
            return True
    return _checksum_ok(header)


def _checksum_ok(header: bytes | bytearray | memoryview) -> bool:
    field = bytes(header[148:156])
    stored = _octal(field)
    # The checksum field itself counts as eight spaces.
    unsigned = (byte_sum(header) if len(header) == BLOCK else sum(header)) - sum(field) + 8 * 32
    if stored == unsigned:
        return True
    raw = bytes(header[:148]) + b"        " + bytes(header[156:])
    return stored == sum(b - 256 if b > 127 else b for b in raw)  # some old tars sum signed bytes


def _parse_pax(data: bytes) -> dict[str, str]:
    out: dict[str, str] = {}
    pos = 0
    while pos < len(data):
        if data[pos] == 0:
            break
        space = data.find(b" ", pos)
        if space < 0:
            raise CorruptLayer("bad pax record")
        try:
            length = int(data[pos:space])
        except ValueError:
            raise CorruptLayer("bad pax record length") from None
        if length <= 0 or pos + length > len(data):
            raise CorruptLayer("bad pax record length")
        record = data[space + 1 : pos + length - 1]
        key, sep, value = record.partition(b"=")
        if not sep:
            raise CorruptLayer("bad pax record")
        out[key.decode("utf-8", "surrogateescape")] = value.decode("utf-8", "surrogateescape")
        pos += length
    return out


CHECK_EVERY = 8 << 20
"""Bytes between two checks of a shared budget (`TarStream(checkpoint=...)`)."""
_NO_LIMIT = 1 << 62


class TarStream:
    """Iterate members; `read_body()` returns the current member's content (only before the next one)."""

    def __init__(
        self,
        reader: Readable,
        chunk: int = 1 << 20,
        max_bytes: int | None = None,
        over: str | None = None,
        checkpoint: Callable[[int], None] | None = None,
    ) -> None:
        self._reader = reader
        self._buf = bytearray(chunk)
        self._view = memoryview(self._buf)
        self._pos = 0
        self._end = 0
        self._eof = False
        self._body_left = 0
        self._pad = 0
        self.bytes_read = 0
        """Decompressed bytes pulled from the reader so far."""
        self.max_bytes = max_bytes
        self._over = over
        """The error past `max_bytes` (default: a decompression bomb)."""
        self._checkpoint = checkpoint
        """Told the bytes read so far every `CHECK_EVERY` bytes (and may raise): a budget shared with
        other streams read at the same time."""
        self._check_at = self._next_check()
        skip = getattr(reader, "skip", None)
        self._skipper: Callable[[int], int] | None = skip if callable(skip) else None

    # -- buffer -------------------------------------------------------------------------------
    def _readinto(self, view: memoryview) -> int:
        n = self._reader.readinto(view) or 0
        self._count(n)
        return n

    def _count(self, n: int) -> None:
        self.bytes_read += n
        if self.bytes_read > self._check_at:  # one comparison per read or skip
            self._check()

    def _check(self) -> None:
        if self.max_bytes is not None and self.bytes_read > self.max_bytes:
            raise CorruptLayer(self._over or f"decompressed over {self.max_bytes} bytes: a decompression bomb")
        if self._checkpoint is not None:
            self._checkpoint(self.bytes_read)
        self._check_at = self._next_check()

    def _next_check(self) -> int:
        limit = self.max_bytes if self.max_bytes is not None else _NO_LIMIT
        if self._checkpoint is None:
            return limit
        return min(limit, self.bytes_read + CHECK_EVERY)

    def _fill(self, n: int) -> bool:
        """Make `n` bytes available from `_pos`; False at a clean EOF before any byte was added."""
        if self._end - self._pos >= n:
            return True
        if self._pos:
            rem = self._end - self._pos
            self._buf[:rem] = self._buf[self._pos : self._end]
            self._pos, self._end = 0, rem
        while self._end - self._pos < n:
            k = self._readinto(self._view[self._end :])
            if k == 0:
                self._eof = True
                return False
            self._end += k
        return True

    def _take(self, n: int) -> bytes:
        if n <= len(self._buf):
            if not self._fill(n):
                raise CorruptLayer("unexpected end of layer data (truncated)")
            out = bytes(self._view[self._pos : self._pos + n])
            self._pos += n
            return out
        # Grow with the data actually read: a header may declare terabytes it does not hold.
        parts = [bytes(self._view[self._pos : self._end])]
        got = len(parts[0])
        self._pos = self._end = 0
        while got < n:
            k = self._readinto(self._view[: min(len(self._view), n - got)])
            if k == 0:
                raise CorruptLayer("unexpected end of layer data (truncated)")
            parts.append(bytes(self._view[:k]))
            got += k
        return b"".join(parts)

    def _skip(self, n: int) -> None:
        avail = self._end - self._pos
        if n <= avail:
            self._pos += n
            return
        n -= avail
        self._pos = self._end = 0
        if self._skipper is not None:  # bodies nobody reads are passed over, not copied
            while n > 0:
                k = self._skipper(n)
                if k == 0:
                    raise CorruptLayer("unexpected end of layer data (truncated)")
                self._count(k)
                n -= k
            return
        view = self._view
        while n > 0:
            k = self._readinto(view[: min(n, len(view))])
            if k == 0:
                raise CorruptLayer("unexpected end of layer data (truncated)")
            n -= k

    def drain(self) -> int:
        """Read to the end of the stream (so digests and decompressor status can be checked)."""
        self._pos = self._end = 0
        total = 0
        while True:
            if self._skipper is not None:
                k = self._skipper(1 << 30)
                self._count(k)
            else:
                k = self._readinto(self._view)
            if k == 0:
                return total
            total += k

    # -- members ------------------------------------------------------------------------------
    def read_body(self) -> bytes:
        n = self._body_left
        data = self._take(n)
        self._body_left = 0
        return data

    def read_chunk(self, n: int) -> bytes:
        """Up to `n` bytes (at most one buffer) of the current member's body; b"" once it is all read.
        Memory stays at one chunk whatever the member's size (for copying a large body to a file)."""
        n = min(n, self._body_left, len(self._buf))
        if n <= 0:
            return b""
        data = self._take(n)
        self._body_left -= n
        return data

    @property
    def body_left(self) -> int:
        """Bytes of the current member's body not read yet."""
        return self._body_left

    def _finish_member(self) -> None:
        self._skip(self._body_left + self._pad)
        self._body_left = self._pad = 0

    def _meta_block(self, size: int) -> bytes:
        if size > MAX_META_BYTES:
            raise CorruptLayer(f"tar metadata record of {size} bytes is over the {MAX_META_BYTES}-byte limit")
        data = self._take(size)
        self._skip(-size % BLOCK)
        return data

    def __iter__(self) -> Iterator[TarMember]:
        for name, typeflag, size, linkname in self.members():
            yield TarMember(name, typeflag, size, linkname)

    def members(self) -> Iterator[tuple[str, str, int, str]]:
        """The members as (name, type, size, linkname) tuples: `__iter__` without an object per member
        (a layer walk takes ~200k of them)."""
        long_name: str | None = None
        long_link: str | None = None
        pax: dict[str, str] = {}
        global_pax: dict[str, str] = {}
        unpack = _HEADER.unpack_from
        adler32 = zlib.adler32
        view = self._view
        while True:
            # `_finish_member` and `_fill(BLOCK)` inlined: this loop runs once per member (~200k a layer)
            left = self._body_left + self._pad
            if left:
                self._skip(left)
                self._body_left = self._pad = 0
            if self._end - self._pos < BLOCK and not self._fill(BLOCK):
                if self._end - self._pos == 0:
                    return  # EOF without end-of-archive blocks: accepted, as GNU tar does
                raise CorruptLayer("unexpected end of layer data (truncated header)")
            buf, pos = self._buf, self._pos
            end = pos + BLOCK
            self._pos = end
            zeros = buf.count(0, pos, end)
            # An all-zero block ends the archive (a real header never is all NUL)
            if zeros == BLOCK:
                return
            name_f, size_f, sum_f, type_b, link_f, magic, prefix_f = unpack(buf, pos)
            # `_fast_checksum_ok` inlined for the usual header (6 octal digits, NUL, space; fewer than
            # `_SPARSE_MAX` non-NUL bytes: adler32's low half gives the byte sum exactly)
            try:
                stored = int(sum_f[:6], 8) if sum_f[6] in (0, 32) and zeros > _DENSE else -1
            except ValueError:
                stored = -1
            if (
                stored < 0 or stored != ((adler32(view[pos:end]) & 0xFFFF) - 1) % _ADLER_MOD - sum(sum_f) + 256
            ) and not _fast_checksum_ok(view[pos:end], sum_f, BLOCK - zeros):
                raise CorruptLayer("bad tar header checksum (corrupt or not a tar)")
            typeflag = _TYPEFLAGS.get(type_b) or type_b.decode("latin-1")
            # `_size` inlined: 11 octal digits and a NUL or space, as GNU tar, Go and Docker write sizes
            if size_f[11] in (0, 32) and size_f[0] < 0x80:
                try:
                    size = int(size_f[:11], 8)
                except ValueError:
                    size = _octal(size_f)
            else:
                size = _octal(size_f)
            if typeflag in "LKxg":
                data = self._meta_block(size)
                if typeflag == "L":
                    long_name = _text(data)
                elif typeflag == "K":
                    long_link = _text(data)
                elif typeflag == "x":
                    pax = _parse_pax(data)
                else:
                    global_pax.update(_parse_pax(data))
                continue
            cut = name_f.find(0)
            name = (name_f if cut < 0 else name_f[:cut]).decode("utf-8", "surrogateescape")
            if prefix_f[0] and magic == b"ustar\x00":  # POSIX ustar: prefix extends the name
                name = _text(prefix_f) + "/" + name
            linkname = _text(link_f) if link_f[0] else ""
            if pax or global_pax:
                merged = {**global_pax, **pax} if global_pax else pax
                name = merged.get("path", name)
                linkname = merged.get("linkpath", linkname)
                if "size" in merged:
                    try:
                        size = int(merged["size"])
                    except ValueError:
                        raise CorruptLayer("bad pax size") from None
                if any(k.startswith("GNU.sparse") for k in merged):
                    typeflag = "S"
                pax = {}
            if long_name is not None:
                name = long_name
                long_name = None
            if long_link is not None:
                linkname = long_link
                long_link = None
            if size < 0:
                raise CorruptLayer("negative member size")
            if typeflag in _REGULAR_TYPES:
                typeflag = REGULAR
            # Links, directories and devices carry no body even if a size is declared.
            if typeflag in _NO_BODY:
                self._body_left = self._pad = 0
            else:
                self._body_left = size
                self._pad = -size % BLOCK
            yield name, typeflag, size, linkname
