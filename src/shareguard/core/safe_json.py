"""The one JSON loader for input a user or an attacker wrote: size and depth budgets, one-line errors.

Python's `json` raises `RecursionError` on deep nesting (`[[[[…` 100k deep), a bare `ValueError`
for an integer of more than 4300 digits, `UnicodeDecodeError` for bytes that are not UTF-8, and
`JSONDecodeError` for the rest; none of them names the file. `load_json` maps every one of them to
a `ParseError` (or `BudgetExceeded` for a budget) naming the file and, where known, the line:

    doc = load_json(data, origin="baseline.json", max_bytes=64 << 20)

The depth budget is checked without recursion: nesting past the interpreter's recursion limit is
caught as the decoder meets it, and the parsed document is then walked iteratively against
`max_depth`. `error=` picks the error class for callers whose errors are user errors of their own
kind (`ConfigError` for a baseline, `WaiverError`…); budgets then keep that class too.
"""

from __future__ import annotations

import json
from typing import Any

from shareguard.core.errors import BudgetExceeded, ParseError, ShareguardError

MAX_DEPTH = 200
"""Default nesting budget (the same as `Budgets.max_depth` for YAML)."""
MAX_BYTES = 64 * 1024 * 1024
MAX_NODES = 10_000_000


def load_json(
    data: bytes | str,
    *,
    origin: str,
    max_depth: int = MAX_DEPTH,
    max_bytes: int = MAX_BYTES,
    max_nodes: int = MAX_NODES,
    error: type[ShareguardError] | None = None,
) -> Any:
    """Parse `data` as JSON within the budgets; every failure is one `ParseError`/`BudgetExceeded` line."""

    def fail(message: str, line: int | None = None, *, budget: bool = False) -> ShareguardError:
        cls = error or (BudgetExceeded if budget else ParseError)
        return cls(message, path=origin, line=line)

    if len(data) > max_bytes:
        raise fail(f"JSON is over the {max_bytes}-byte budget", budget=True)
    try:
        doc = json.loads(data)
    except json.JSONDecodeError as exc:
        raise fail(f"invalid JSON: {exc.msg} (column {exc.colno})", exc.lineno) from None
    except RecursionError:
        raise fail(f"JSON nested deeper than {max_depth} levels", budget=True) from None
    except UnicodeDecodeError as exc:
        raise fail(f"JSON is not UTF-8 text (byte {exc.start})") from None
    except ValueError as exc:  # an integer over sys.get_int_max_str_digits() digits
        text = str(exc)
        if "digits" in text:
            raise fail("JSON holds a number too large to convert (over 4300 digits)", budget=True) from None
        raise fail(f"invalid JSON: {text.splitlines()[0] if text else 'ValueError'}") from None
    check_depth(doc, origin=origin, max_depth=max_depth, max_nodes=max_nodes, error=error)
    return doc


def check_depth(
    doc: Any,
    *,
    origin: str,
    max_depth: int = MAX_DEPTH,
    max_nodes: int = MAX_NODES,
    error: type[ShareguardError] | None = None,
) -> None:
    """Refuse an already parsed document nested deeper than `max_depth` or with more than `max_nodes` values."""
    cls = error or BudgetExceeded
    if not isinstance(doc, dict | list):
        return
    count = 0
    stack: list[tuple[Any, int]] = [(doc, 1)]
    while stack:
        node, depth = stack.pop()
        if depth > max_depth:
            raise cls(f"JSON nested deeper than {max_depth} levels", path=origin)
        children = node.values() if isinstance(node, dict) else node
        count += len(children)
        if count > max_nodes:
            raise cls(f"JSON has more than {max_nodes} values", path=origin)
        stack.extend((c, depth + 1) for c in children if isinstance(c, dict | list))
