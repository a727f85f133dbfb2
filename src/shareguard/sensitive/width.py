"""How long a detector pattern's match can be, in bytes: the bound on how far back from a candidate's end
offset the exact pattern has to look, so each detector's verification region is as short as its pattern
allows instead of one fixed size for every detector.

The bound is read from the pattern's syntax tree (Python's own regular-expression parser: the detector
patterns are in the common subset of RE2, Hyperscan and Python syntax), with RE2's meaning of each piece:
`\\d`, `\\w`, `\\s` and their classes are ASCII (one byte); a negated class, `.` and a negated category match any
character (up to four bytes in UTF-8); a literal or a range takes its UTF-8 length; a caseless pattern may
match a character of another length than its own (`(?i)k` matches the three-byte Kelvin sign), so each of its
characters counts four bytes. Over ASCII-only data every character is one byte. A pattern with an unbounded
repeat, or one the parser does not take, has no bound (`None`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from importlib import import_module
from typing import Any

_parser: Any = import_module("re._parser")
_c: Any = import_module("re._constants")
_NOT_ASCII_CATEGORIES = frozenset({_c.CATEGORY_NOT_DIGIT, _c.CATEGORY_NOT_SPACE, _c.CATEGORY_NOT_WORD})
_MAX_SHORTEST = 1 << 20


@dataclass(frozen=True, slots=True)
class Width:
    shortest: int
    """The shortest match in bytes (in characters: each takes at least one byte)."""
    ascii: int | None
    """The longest match in bytes over ASCII-only data (one byte per character)."""
    utf8: int | None
    """The longest match in bytes over any UTF-8 data."""


class _Unbounded(Exception):
    pass


def width(pattern: str) -> Width:
    try:
        tree = _parser.parse(pattern)
    except (re.error, ValueError, TypeError, OverflowError, RecursionError):
        return Width(0, None, None)
    shortest = min(int(tree.getwidth()[0]), _MAX_SHORTEST)
    try:
        chars = _longest(tree, ascii_only=True, caseless=False)
        caseless = bool(tree.state.flags & re.IGNORECASE)
        utf8 = _longest(tree, ascii_only=False, caseless=caseless)
    except (_Unbounded, ValueError, TypeError, OverflowError, RecursionError):
        return Width(shortest, None, None)
    return Width(shortest, chars, utf8)


def _longest(tree: Any, *, ascii_only: bool, caseless: bool) -> int:
    total = 0
    for op, av in tree:
        total += _item(op, av, ascii_only=ascii_only, caseless=caseless)
    return total


def _char(code: int, *, ascii_only: bool, caseless: bool) -> int:
    if ascii_only:
        return 1
    return 4 if caseless else len(chr(code).encode("utf-8", "surrogatepass"))


def _item(op: Any, av: Any, *, ascii_only: bool, caseless: bool) -> int:
    one = 1 if ascii_only else 4
    if op == _c.LITERAL:
        return _char(av, ascii_only=ascii_only, caseless=caseless)
    if op in (_c.NOT_LITERAL, _c.ANY):
        return one
    if op == _c.AT:
        return 0
    if op == _c.CATEGORY:
        return one if av in _NOT_ASCII_CATEGORIES else 1
    if op == _c.IN:
        return _set(av, ascii_only=ascii_only, caseless=caseless)
    if op == _c.BRANCH:
        return max(_longest(alt, ascii_only=ascii_only, caseless=caseless) for alt in av[1])
    if op == _c.SUBPATTERN:
        return _longest(av[-1], ascii_only=ascii_only, caseless=caseless)
    if op in (_c.MAX_REPEAT, _c.MIN_REPEAT):
        _low, high, sub = av
        if high >= _c.MAXREPEAT:
            raise _Unbounded
        return int(high) * _longest(sub, ascii_only=ascii_only, caseless=caseless)
    raise _Unbounded  # back-references, look-around, conditionals: not in the detector syntax


def _set(items: list[tuple[Any, Any]], *, ascii_only: bool, caseless: bool) -> int:
    if ascii_only:
        return 1
    widest = 1
    for op, av in items:
        if op == _c.NEGATE or (op == _c.CATEGORY and av in _NOT_ASCII_CATEGORIES):
            return 4
        if op == _c.LITERAL:
            widest = max(widest, _char(av, ascii_only=False, caseless=caseless))
        elif op == _c.RANGE:
            widest = max(widest, _char(av[1], ascii_only=False, caseless=caseless))
    return widest
