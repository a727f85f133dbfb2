"""dpkg order (Debian, Ubuntu): epochs, tildes, `+deb12u1`…

`python-debian` parses and validates (`debian.debian_support.Version`); its comparison is pure
Python and ~17 µs a call, too slow for millions of comparisons. So each version becomes a tuple
key once, which orders exactly as dpkg's `verrevcmp` does (a property test checks the key against
python-debian's own comparison on random versions).
"""

from __future__ import annotations

from debian.debian_support import Version

_Pair = tuple[tuple[int, ...], int]
_END: _Pair = ((0,), 0)
"""What dpkg compares against once a string is exhausted: an empty non-digit run and the number 0."""


def _weight(c: str) -> int:
    # dpkg's order(): `~` sorts before everything, even the end of the string; letters before other chars.
    if c == "~":
        return -1
    if c.isascii() and c.isalpha():
        return ord(c)
    return ord(c) + 256


def _part_key(text: str) -> tuple[_Pair, ...]:
    pairs: list[_Pair] = []
    i, n = 0, len(text)
    while i < n:
        j = i
        while j < n and not text[j].isdigit():
            j += 1
        weights = (*(_weight(c) for c in text[i:j]), 0)
        k = j
        while k < n and text[k].isdigit():
            k += 1
        pairs.append((weights, int(text[j:k]) if k > j else 0))
        i = k
    while pairs and pairs[-1] == _END:
        pairs.pop()
    pairs.append(_END)  # compare a shorter string's end exactly as dpkg does
    return tuple(pairs)


def key(version: str) -> tuple[int, tuple[_Pair, ...], tuple[_Pair, ...]]:
    parsed = Version(version)  # raises ValueError on strings dpkg would reject
    return (
        int(parsed.epoch or 0),
        _part_key(parsed.upstream_version or ""),
        _part_key(parsed.debian_revision or ""),
    )
