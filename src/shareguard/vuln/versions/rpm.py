"""rpm order (rpmvercmp: epochs, tildes, carets, alphanumeric segments).

`univers` parses and validates (`univers.versions.RpmVersion`: `[epoch:]version[-release]`), but its
comparison is a loop of regular-expression matches per call (~7 µs), too slow for millions of
comparisons. So each version becomes a tuple key once, which orders exactly as univers' rpmvercmp
does (a property test checks the key against univers' own comparison on random versions).
"""

from __future__ import annotations

import re

# Segment ranks in rpmvercmp: `~` sorts before everything, even the end of the string; `^` after the
# end but before any further segment; letters before numbers.
_TILDE, _END, _CARET, _ALPHA, _NUM = 0, 1, 2, 3, 4
_SEGMENT = re.compile(r"~|\^|[a-zA-Z]+|[0-9]+")
"""What rpmvercmp compares; every other (ASCII) character only separates segments."""

_Segment = tuple[int] | tuple[int, str] | tuple[int, int]
_Key = tuple[int, tuple[_Segment, ...], tuple[_Segment, ...]]


def _segments(text: str) -> tuple[_Segment, ...]:
    # rpm versions are ASCII: like univers, drop any other character (it does not even separate)
    plain = text.encode("ascii", "ignore").decode("ascii")
    out: list[_Segment] = []
    for seg in _SEGMENT.findall(plain):
        if seg == "~":
            out.append((_TILDE,))
        elif seg == "^":
            out.append((_CARET,))
        elif seg[0].isdigit():
            out.append((_NUM, int(seg)))  # leading zeros do not count, nor does length beyond the value
        else:
            out.append((_ALPHA, seg))
    out.append((_END,))  # an exhausted string, so that a prefix compares as rpmvercmp says
    return tuple(out)


def key(version: str) -> _Key:
    from univers.versions import RpmVersion  # here: univers costs ~0.1 s of every command's start-up

    if not version or version.strip() != version:
        raise ValueError(f"not an rpm version: {version!r}")
    evr = RpmVersion(version).value  # univers' own split of epoch, version and release
    return (int(evr.epoch), _segments(evr.version), _segments(evr.release))
