"""Reader of BerkeleyDB hash databases as rpm < 4.16 keeps `var/lib/rpm/Packages` (RHEL/CentOS 7-8,
UBI 8, Amazon Linux 2): yields the stored values (rpm header blobs). Read-only, in memory, hostile-safe.

Layout (libdb's db_page.h): page 0 is the hash metadata page (magic 0x061561 at byte 12, page size at 20,
last page number at 32, in the writer's byte order). Hash pages (type 2 or 13) hold an index of 2-byte
item offsets after a 26-byte page header; items alternate key/value. A value is either inline
(`H_KEYDATA`, type 1) or a reference to a chain of overflow pages (`H_OFFPAGE`, type 3: page number and
total length); overflow pages (type 7) carry `hf_offset` bytes of data each and link through `next_pgno`.
Every page number, offset, length and chain is bounds-checked; loops are impossible (visited set).
"""

from __future__ import annotations

import struct
from collections.abc import Iterator

from shareguard.core.errors import ParseError

HASH_MAGIC = 0x061561
_PAGE_SIZES = frozenset(1 << n for n in range(9, 17))  # 512 … 65536
_HEADER = 26
_P_HASH_UNSORTED, _P_OVERFLOW, _P_HASH = 2, 7, 13
_H_KEYDATA, _H_OFFPAGE = 1, 3
MAX_VALUE = 256 * 1024 * 1024  # rpm's own header data limit


class BdbError(ParseError):
    """Not a BerkeleyDB hash database, or a corrupt one."""


def _byte_order(content: bytes) -> str:
    if len(content) < 512:
        raise BdbError("too short for a BerkeleyDB database")
    for order in ("<", ">"):
        if struct.unpack_from(f"{order}I", content, 12)[0] == HASH_MAGIC:
            return order
    raise BdbError("not a BerkeleyDB hash database")


def _overflow(content: bytes, order: str, page_size: int, last: int, pgno: int, total: int) -> bytes:
    out = bytearray()
    seen: set[int] = set()
    while pgno:
        if pgno > last or pgno in seen:
            raise BdbError(f"overflow chain points at page {pgno} (outside the file or already visited)")
        seen.add(pgno)
        base = pgno * page_size
        if content[base + 25] != _P_OVERFLOW:
            raise BdbError(f"page {pgno} in an overflow chain is not an overflow page")
        next_pgno = struct.unpack_from(f"{order}I", content, base + 16)[0]
        used = struct.unpack_from(f"{order}H", content, base + 22)[0]  # OV_LEN: bytes on this page
        if _HEADER + used > page_size:
            raise BdbError(f"overflow page {pgno} claims more data than a page holds")
        out += content[base + _HEADER : base + _HEADER + used]
        if len(out) >= total:
            break
        pgno = next_pgno
    if len(out) < total:
        raise BdbError("overflow chain shorter than its item")
    return bytes(out[:total])


def values(content: bytes) -> Iterator[bytes]:
    """Every value stored in the hash database (raises BdbError on a corrupt structure)."""
    order = _byte_order(content)
    page_size = struct.unpack_from(f"{order}I", content, 20)[0]
    if page_size not in _PAGE_SIZES:
        raise BdbError(f"invalid page size {page_size}")
    last = min(struct.unpack_from(f"{order}I", content, 32)[0], len(content) // page_size - 1)
    for pgno in range(1, last + 1):
        base = pgno * page_size
        if content[base + 25] not in (_P_HASH, _P_HASH_UNSORTED):
            continue
        entries = struct.unpack_from(f"{order}H", content, base + 20)[0]
        if _HEADER + 2 * entries > page_size:
            raise BdbError(f"hash page {pgno} has an impossible entry count")
        offsets = struct.unpack_from(f"{order}{entries}H", content, base + _HEADER)
        for i in range(1, entries, 2):  # items alternate key, value
            off = offsets[i]
            end = offsets[i - 1]  # items are stored downwards: item i ends where item i-1 starts
            if not _HEADER + 2 * entries <= off < end <= page_size:
                raise BdbError(f"hash page {pgno} item {i} lies outside its page")
            kind = content[base + off]
            if kind == _H_KEYDATA:
                yield content[base + off + 1 : base + end]
            elif kind == _H_OFFPAGE and off + 12 <= end:
                ref, total = struct.unpack_from(f"{order}II", content, base + off + 4)
                if total > MAX_VALUE:
                    raise BdbError("overflow item larger than an rpm header may be")
                yield _overflow(content, order, page_size, last, ref, total)
