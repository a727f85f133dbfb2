"""Decoder of rpm header blobs as stored in an rpmdb (index entries + data store), hostile-input safe.

Layout (rpm's lib/header.c): big-endian `il` (entry count) and `dl` (data length), then `il` 16-byte
entries (tag, type, offset, count), then `dl` bytes of data. Every offset/count is checked against the
data store before use; anything out of range raises `RpmHeaderError`.
"""

from __future__ import annotations

import struct

from shareguard.core.errors import ParseError

# Tags (rpmtag.h).
NAME, VERSION, RELEASE, EPOCH = 1000, 1001, 1002, 1003
VENDOR, LICENSE, ARCH = 1011, 1014, 1022
OLDFILENAMES, SOURCERPM = 1027, 1044
DIRINDEXES, BASENAMES, DIRNAMES = 1116, 1117, 1118

# Types (rpmtag.h).
T_INT32, T_STRING, T_STRING_ARRAY, T_I18NSTRING = 4, 6, 8, 9

MAX_ENTRIES = 0xFFFF  # rpm's own limit on `il`
MAX_DATA = 256 * 1024 * 1024  # rpm's HEADER_DATA_MAX


class RpmHeaderError(ParseError):
    """A malformed or hostile rpm header blob."""


class RpmHeader:
    def __init__(self, blob: bytes) -> None:
        if len(blob) < 8:
            raise RpmHeaderError("rpm header shorter than 8 bytes")
        il, dl = struct.unpack_from(">II", blob, 0)
        if il > MAX_ENTRIES or dl > MAX_DATA:
            raise RpmHeaderError(f"rpm header counts out of range (il={il}, dl={dl})")
        self._data_start = 8 + 16 * il
        if self._data_start + dl > len(blob):
            raise RpmHeaderError("rpm header data store runs past the blob")
        self._blob = blob
        self._dl = dl
        self._entries: dict[int, tuple[int, int, int]] = {}
        for i in range(il):
            tag, typ, offset, count = struct.unpack_from(">IIiI", blob, 8 + 16 * i)
            if offset < 0 or offset >= dl or count == 0 or count > dl:
                continue  # region trailers and broken entries are not needed; never trust them
            self._entries.setdefault(tag, (typ, offset, count))

    def _cstring(self, pos: int) -> tuple[str, int]:
        end = self._blob.find(b"\0", pos, self._data_start + self._dl)
        if end < 0:
            raise RpmHeaderError("unterminated string in rpm header")
        return self._blob[pos:end].decode("utf-8", "replace"), end + 1

    def string(self, tag: int) -> str | None:
        entry = self._entries.get(tag)
        if entry is None or entry[0] not in (T_STRING, T_STRING_ARRAY, T_I18NSTRING):
            return None
        return self._cstring(self._data_start + entry[1])[0]

    def strings(self, tag: int) -> list[str]:
        entry = self._entries.get(tag)
        if entry is None or entry[0] not in (T_STRING_ARRAY, T_I18NSTRING, T_STRING):
            return []
        typ, offset, count = entry
        if typ == T_STRING:
            count = 1
        pos = self._data_start + offset
        out: list[str] = []
        for _ in range(count):
            s, pos = self._cstring(pos)
            out.append(s)
        return out

    def int32s(self, tag: int) -> list[int]:
        entry = self._entries.get(tag)
        if entry is None or entry[0] != T_INT32:
            return []
        _, offset, count = entry
        if offset + 4 * count > self._dl:
            raise RpmHeaderError("int32 array runs past the rpm header data store")
        return list(struct.unpack_from(f">{count}i", self._blob, self._data_start + offset))

    def int32(self, tag: int) -> int | None:
        values = self.int32s(tag)
        return values[0] if values else None

    def file_paths(self) -> list[str]:
        """Every file path of the package (compressed dir/base names, or the old flat list)."""
        basenames = self.strings(BASENAMES)
        if not basenames:
            return self.strings(OLDFILENAMES)
        dirnames = self.strings(DIRNAMES)
        indexes = self.int32s(DIRINDEXES)
        if len(indexes) != len(basenames):
            raise RpmHeaderError("rpm header file lists disagree in length")
        out: list[str] = []
        for base, idx in zip(basenames, indexes, strict=True):
            if not 0 <= idx < len(dirnames):
                raise RpmHeaderError("rpm header dir index out of range")
            out.append(dirnames[idx] + base)
        return out
