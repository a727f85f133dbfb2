"""Helpers the cloud parsers share: budgets, JSON loading, key normalisation, unknown values, line lookup."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from functools import lru_cache
from typing import Any

from shareguard.core.context import ScanContext
from shareguard.core.entry import FileEntry
from shareguard.core.errors import BudgetExceeded, ParseError

_CAMEL1 = re.compile(r"(.)([A-Z][a-z]+)")
_CAMEL2 = re.compile(r"([a-z0-9])([A-Z])")

# Maps whose keys are user data (label/tag names, parameter names): their keys are kept as written.
OPAQUE_KEYS = frozenset(
    {"labels", "tags", "parameters", "user_labels", "annotations", "metadata_items", "environment_variables"}
)


@lru_cache(maxsize=65536)
def snake(name: str) -> str:
    """`serviceKmsKeyName` / `KmsKeyId` / `KMSKeyId` → `service_kms_key_name` / `kms_key_id`."""
    s = _CAMEL1.sub(r"\1_\2", name)
    return _CAMEL2.sub(r"\1_\2", s).replace("-", "_").replace("__", "_").lower()


def snake_view(value: Any, *, keep_keys: bool = False, depth: int = 0) -> Any:
    """A copy of a JSON-like document with snake_case keys (user-data maps keep their keys)."""
    if depth > 200:
        raise BudgetExceeded("document nested deeper than 200 levels")
    if isinstance(value, dict):
        if is_unknown(value):
            return value  # CloudFormation intrinsic (`{"Fn::GetAtt": …}`): kept verbatim, it is an expression
        out: dict[str, Any] = {}
        for k, v in value.items():
            key = str(k) if keep_keys else snake(str(k))
            out[key] = snake_view(v, keep_keys=key in OPAQUE_KEYS, depth=depth + 1)
        return out
    if isinstance(value, list):
        return [snake_view(v, depth=depth + 1) for v in value]
    return value


def is_unknown(value: Any) -> bool:
    """An unresolved expression (`${var.x}`, CloudFormation `{"Ref": …}`, plan `(known after apply)`)."""
    if isinstance(value, str):
        return "${" in value or value == UNKNOWN
    if isinstance(value, dict) and len(value) == 1:
        key = next(iter(value))
        return isinstance(key, str) and (key == "Ref" or key.startswith("Fn::") or key == "Condition")
    return False


UNKNOWN = "(known after apply)"


def known(value: Any) -> bool:
    """Set to a concrete value (not missing, not an unresolved expression)."""
    return value is not None and value != "" and not is_unknown(value)


def present(value: Any) -> bool:
    """Set, to a concrete value or an expression (an expression counts as configured)."""
    return value is not None and value != "" and value != [] and value != {}


def as_bool(value: Any) -> bool | None:
    """`true`/`"true"`/`"TRUE"`/`1` → True; unknowns → None."""
    if isinstance(value, bool):
        return value
    if isinstance(value, int | float):
        return bool(value)
    if isinstance(value, str) and not is_unknown(value):
        low = value.strip().lower()
        if low in ("true", "yes", "1", "enabled", "on"):
            return True
        if low in ("false", "no", "0", "disabled", "off"):
            return False
    return None


def as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


def get_path(doc: Any, path: str) -> Any:
    """`a.b[0].c` lookup; None when any step is missing."""
    cur = doc
    for part in _split_path(path):
        if isinstance(part, int):
            if not isinstance(cur, list) or part >= len(cur):
                return None
            cur = cur[part]
        else:
            if not isinstance(cur, dict) or part not in cur:
                return None
            cur = cur[part]
    return cur


def _split_path(path: str) -> Iterator[str | int]:
    for seg in path.split("."):
        while "[" in seg:
            head, _, rest = seg.partition("[")
            if head:
                yield head
            idx, _, seg = rest.partition("]")
            yield int(idx) if idx.isdigit() else idx
        if seg:
            yield seg


def first_block(value: Any) -> dict[str, Any]:
    """HCL nested blocks parse as a list of dicts; JSON/CFN as a dict. Return the first dict, or {}."""
    if isinstance(value, list):
        value = value[0] if value else None
    return value if isinstance(value, dict) else {}


def check_depth(value: Any, limit: int) -> None:
    """Iterative depth check (no recursion) so a deeply nested document fails cleanly."""
    stack: list[tuple[Any, int]] = [(value, 0)]
    seen = 0
    while stack:
        cur, d = stack.pop()
        if d > limit:
            raise BudgetExceeded(f"document nested deeper than {limit} levels")
        seen += 1
        if seen > 2_000_000:
            raise BudgetExceeded("document has more than 2,000,000 values")
        if isinstance(cur, dict):
            stack.extend((v, d + 1) for v in cur.values())
        elif isinstance(cur, list):
            stack.extend((v, d + 1) for v in cur)


def load_json_text(entry: FileEntry, ctx: ScanContext) -> tuple[str, Any]:
    """Read and parse a JSON file within the budgets."""
    text = entry.read_text(ctx.settings.budgets.max_config_bytes)
    try:
        doc = json.loads(text)
    except RecursionError:
        raise BudgetExceeded("JSON nested too deeply", path=entry.rel_path) from None
    except json.JSONDecodeError as exc:
        raise ParseError(f"invalid JSON: {exc.msg}", path=entry.rel_path, line=exc.lineno) from None
    check_depth(doc, ctx.settings.budgets.max_depth)
    return text, doc


def json_path(path: str, size: int = 0) -> bool:
    """The path rule of `json_head`: `.json` (any case), `.json.txt`, `.tfstate` or no extension at
    all (describe output saved as `nb`). The `required` of the formats that claim by `json_head`."""
    name = path[path.rfind("/") + 1 :]
    dot = name.rfind(".")
    return dot < 0 or name[dot:].lower() == ".json" or name.endswith((".json.txt", ".tfstate"))


def json_head(entry: FileEntry) -> bytes | None:
    """The start of a JSON-looking file (after whitespace/BOM), or None."""
    if not json_path(entry.rel_path):
        return None
    head = entry.head().lstrip(b"\xef\xbb\xbf \t\r\n")
    return head if head[:1] in (b"{", b"[") else None


class LineIndex:
    """Finds lines of keys and values in a text (for formats whose parser loses positions)."""

    def __init__(self, text: str) -> None:
        self.text = text
        self._starts = [0]
        for m in re.finditer("\n", text):
            self._starts.append(m.end())

    def line_at(self, offset: int) -> int:
        lo, hi = 0, len(self._starts) - 1
        while lo < hi:
            mid = (lo + hi + 1) // 2
            if self._starts[mid] <= offset:
                lo = mid
            else:
                hi = mid - 1
        return lo + 1

    def find(self, needle: str, start: int = 0) -> int | None:
        """Offset of `needle` at or after `start`, or None."""
        pos = self.text.find(needle, start)
        return pos if pos >= 0 else None

    def json_key(self, key: str, start: int = 0, end: int | None = None) -> int | None:
        """Offset of `"key":` in a JSON text."""
        m = re.compile(r'"' + re.escape(key) + r'"\s*:').search(
            self.text, start, end if end is not None else len(self.text)
        )
        return m.start() if m else None


def json_lines(idx: LineIndex, obj: Any, start: int, path: str, out: dict[str, int], budget: list[int]) -> int:
    """Walk `obj` in document order, finding each key after the previous one (JSON keeps order)."""
    cursor = start
    if isinstance(obj, dict):
        for k, v in obj.items():
            if budget[0] <= 0:
                return cursor
            budget[0] -= 1
            off = idx.json_key(str(k), cursor)
            if off is None:
                continue
            sub = f"{path}.{snake(str(k))}" if path else snake(str(k))
            out.setdefault(sub, idx.line_at(off))
            cursor = json_lines(idx, v, off + 1, sub, out, budget)
    elif isinstance(obj, list):
        for i, item in enumerate(obj):
            if budget[0] <= 0:
                return cursor
            if isinstance(item, dict | list):
                brace = idx.find("{" if isinstance(item, dict) else "[", cursor)
                if brace is not None:
                    out.setdefault(f"{path}[{i}]", idx.line_at(brace))
                cursor = json_lines(idx, item, cursor, f"{path}[{i}]", out, budget)
    return cursor
