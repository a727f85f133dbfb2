"""Whether a detector's value group is its whole match: the pattern is the value group between zero-width
assertions only (`\\b(…)\\b`, `(…)`), so the match's own span is the value's.

Such a detector is verified by a copy of its pattern that captures nothing (RE2's `never_capture`): RE2
then reports the match's span from its DFA alone, without the second, submatch pass over it, which cost
~1-2 µs a call and ~20 µs for a pattern as large as the URL-credentials one (benchmarks/sensitive.md).
The tree is read with Python's own regular-expression parser, as in `width.py`; a pattern it does not take
keeps its groups.
"""

from __future__ import annotations

import re
from importlib import import_module
from typing import Any

_parser: Any = import_module("re._parser")
_c: Any = import_module("re._constants")


def value_is_whole_match(pattern: str, group: int) -> bool:
    if group == 0:
        return True
    try:
        tree = _parser.parse(pattern)
    except (re.error, ValueError, TypeError, OverflowError, RecursionError):
        return False
    consuming = [(op, av) for op, av in tree if op != _c.AT]
    return len(consuming) == 1 and consuming[0][0] == _c.SUBPATTERN and consuming[0][1][0] == group
