"""dpkg order (Debian, Ubuntu): epochs, tildes, `+deb12u1`…

`python-debian` parses and validates (`debian.debian_support.Version`); its comparison is pure
Python and ~17 µs a call, too slow for millions of comparisons. So each version becomes a tuple
key once, which orders exactly as dpkg's `verrevcmp` does (a property test checks the key against
python-debian's own comparison on random versions).
"""

from __future__ import annotations

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


def _part_key(text: str) -> tuple[tuple[_Pair, int], ...]:
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
    # dpkg compares an exhausted string as endless _END pairs. Tuples stop at the shorter one, so each
    # pair carries the sign of "the rest after it" against endless _END pairs, and the key ends with
    # (_END, 0): a prefix then compares exactly as dpkg would against the longer string's rest.
    rest = [0] * len(pairs)
    for idx in range(len(pairs) - 2, -1, -1):
        nxt = pairs[idx + 1]
        rest[idx] = rest[idx + 1] if nxt == _END else (1 if nxt > _END else -1)
    return (*zip(pairs, rest, strict=True), (_END, 0))


def key(version: str) -> tuple[int, tuple[tuple[_Pair, int], ...], tuple[tuple[_Pair, int], ...]]:
    from debian.debian_support import Version  # here: python-debian is start-up cost for non-image commands

    parsed = Version(version)  # raises ValueError on strings dpkg would reject
    return (
        int(parsed.epoch or 0),
        _part_key(parsed.upstream_version or ""),
        _part_key(parsed.debian_revision or ""),
    )
