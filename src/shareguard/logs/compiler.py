"""Compile pySigma's parsed rules into Python matchers: one closure tree per rule, built once.

Input is the condition tree pySigma makes of a rule (`SigmaCondition.parsed`: AND/OR/NOT over
field = value leaves and keyword values, modifiers already applied). Each leaf becomes a test on one
field, read through a getter compiled once per field path (`fields.getter`); an OR of plain values of
one field becomes one set lookup. `index_values` tells which values of the log's index field (eventName,
methodName, verb) a rule can match at all, so the evaluator offers an event only to those rules.

Sigma semantics: strings compare case-insensitively (`|cased` and regular expressions without the `i`
flag excepted); `*` and `?` are wildcards; a list-valued field matches when any element does; `null`
matches a missing field or a JSON null; `|exists`, `|cidr`, `|lt`/`|gt`…, `|fieldref`, `|re` (with the
i/m/s flags), `|windash` and `|base64offset` (expanded by pySigma into alternatives) are supported.
What is not (placeholders `|expand`, timestamp parts, query expressions) raises `Unsupported` with the
reason, and the rule is listed, never silently dropped.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from sigma.conditions import (
    ConditionAND,
    ConditionFieldEqualsValueExpression,
    ConditionNOT,
    ConditionOR,
    ConditionValueExpression,
)
from sigma.types import (
    CompareOperators,
    Placeholder,
    SigmaBool,
    SigmaCasedString,
    SigmaCIDRExpression,
    SigmaCompareExpression,
    SigmaExists,
    SigmaExpansion,
    SigmaFieldReference,
    SigmaNull,
    SigmaNumber,
    SigmaRegularExpression,
    SigmaRegularExpressionFlag,
    SigmaString,
    SpecialChars,
)

from shareguard.logs.fields import ARRAYS, MISSING, OBJECTS, FieldMap, getter, text

try:  # linear-time regular expressions (google-re2 is a dependency)
    import re2 as _re2
except ImportError:  # pragma: no cover
    _re2 = None

Matcher = Callable[[dict[str, Any]], bool]
Test = Callable[[Any], bool]


class Unsupported(Exception):
    """A rule uses a Sigma feature shareguard does not evaluate (the message says which)."""


@dataclass(frozen=True)
class Node:
    """A compiled condition node: its matcher and what it tells about the index field."""

    match: Matcher
    path: str | None = None
    """The field a leaf tests (None for operators and keywords)."""
    equals: frozenset[str] | None = None
    """Lower-cased values a case-insensitive equality leaf (or an OR of them on one field) accepts."""
    index: Mapping[str, frozenset[str]] = field(default_factory=dict)
    """Per index field (fieldmap.yaml's `index`): the lower-cased values an event must have there to match
    (a field not named: any value)."""


class Compiler:
    """Compiles the conditions of rules of one log source."""

    def __init__(self, fields: FieldMap) -> None:
        self.fields = fields
        self._getters: dict[str, Callable[[dict[str, Any]], Any]] = {}

    def getter(self, path: str) -> Callable[[dict[str, Any]], Any]:
        g = self._getters.get(path)
        if g is None:
            g = self._getters[path] = getter(path)
        return g

    def compile(self, tree: Any) -> Node:
        if isinstance(tree, ConditionAND):
            return self._and([self.compile(a) for a in tree.args])
        if isinstance(tree, ConditionOR):
            return self._or([self.compile(a) for a in tree.args])
        if isinstance(tree, ConditionNOT):
            inner = self.compile(tree.args[0]).match
            return Node(lambda ev: not inner(ev))
        if isinstance(tree, ConditionFieldEqualsValueExpression):
            return self._leaf(tree.field, tree.value)
        if isinstance(tree, ConditionValueExpression):
            return self._keyword(tree.value)
        raise Unsupported(f"condition element {type(tree).__name__}")

    # --- operators ---------------------------------------------------------------------------------------

    def _and(self, nodes: list[Node]) -> Node:
        flat = list(nodes)
        index: dict[str, frozenset[str]] = {}
        for n in flat:  # every constraint of a conjunct holds: keep the narrowest per field
            for path, values in n.index.items():
                if path not in index or len(values) < len(index[path]):
                    index[path] = values
        matchers = tuple(n.match for n in flat)
        if len(matchers) == 1:
            return Node(matchers[0], flat[0].path, flat[0].equals, index)
        if len(matchers) == 2:
            a, b = matchers
            return Node(lambda ev: a(ev) and b(ev), index=index)

        def all_of(ev: dict[str, Any]) -> bool:
            for m in matchers:  # noqa: SIM110 - a plain loop: no generator per event
                if not m(ev):
                    return False
            return True

        return Node(all_of, index=index)

    def _or(self, nodes: list[Node]) -> Node:
        # Plain values of one field, case-insensitive: one set lookup instead of one test each.
        merged: dict[str, set[str]] = {}
        rest: list[Node] = []
        for n in nodes:
            if n.path is not None and n.equals is not None:
                merged.setdefault(n.path, set()).update(n.equals)
            else:
                rest.append(n)
        parts = [self._equals_any(path, frozenset(values)) for path, values in merged.items()] + rest
        # a field constrains the disjunction only where every alternative constrains it
        index: dict[str, frozenset[str]] = dict(parts[0].index) if parts else {}
        for n in parts[1:]:
            index = {p: v | n.index[p] for p, v in index.items() if p in n.index}
        if len(parts) == 1:
            only = parts[0]
            return Node(only.match, only.path, only.equals, index)
        matchers = tuple(n.match for n in parts)
        if len(matchers) == 2:
            a, b = matchers
            return Node(lambda ev: a(ev) or b(ev), index=index)

        def any_of(ev: dict[str, Any]) -> bool:
            for m in matchers:  # noqa: SIM110 - a plain loop: no generator per event
                if m(ev):
                    return True
            return False

        return Node(any_of, index=index)

    # --- leaves --------------------------------------------------------------------------------------------

    def _equals_any(self, path: str, values: frozenset[str]) -> Node:
        get = self.getter(path)

        def test(ev: dict[str, Any]) -> bool:
            v = get(ev)
            if type(v) is str:
                return v.lower() in values
            if type(v) in ARRAYS:
                return any(t is not None and t.lower() in values for t in map(text, v))
            t = text(v)
            return t is not None and t.lower() in values

        index = {path: values} if path in self.fields.index else {}
        return Node(test, path, values, index)

    def _leaf(self, sigma_field: str, value: Any) -> Node:
        path = self.fields.path(sigma_field)
        if isinstance(value, SigmaString) and not isinstance(value, SigmaCasedString) and _plain(value):
            return self._equals_any(path, frozenset({_joined(value).lower()}))
        if isinstance(value, SigmaExpansion):
            return self._or([self._leaf(sigma_field, v) for v in value.values])
        get = self.getter(path)
        if isinstance(value, SigmaNull):
            return Node(lambda ev: get(ev) in (None, MISSING), path)
        if isinstance(value, SigmaExists):
            want = value.exists
            return Node(lambda ev: (get(ev) is not MISSING) is want, path)
        if isinstance(value, SigmaFieldReference):
            other = self.getter(self.fields.path(value.field))

            def same(ev: dict[str, Any]) -> bool:
                a, b = text(get(ev)), text(other(ev))
                return a is not None and b is not None and a.lower() == b.lower()

            return Node(same, path)
        test = self._value_test(value)

        def leaf(ev: dict[str, Any]) -> bool:
            v = get(ev)
            if type(v) in ARRAYS:
                return any(test(x) for x in v)
            return v is not MISSING and test(v)

        return Node(leaf, path)

    def _keyword(self, value: Any) -> Node:
        """A keyword: matched against every scalar value of the event (as a full-text search would)."""
        if isinstance(value, SigmaString) and _plain(value):
            value = SigmaString("*" + _escape(_joined(value)) + "*")
        test = self._value_test(value)

        def search(ev: dict[str, Any]) -> bool:
            stack: list[Any] = [ev]
            while stack:
                cur = stack.pop()
                if type(cur) in OBJECTS:
                    stack.extend(cur.values())
                elif type(cur) in ARRAYS:
                    stack.extend(cur)
                elif test(cur):
                    return True
            return False

        return Node(search)

    def _value_test(self, value: Any) -> Test:
        """A test of one scalar (or object, as JSON text) field value."""
        if isinstance(value, SigmaString):
            return _string_test(value)
        if isinstance(value, SigmaRegularExpression):
            return _regex_test(value)
        if isinstance(value, SigmaBool):
            want = "true" if value.boolean else "false"
            return lambda v: (t := text(v)) is not None and t.lower() == want
        if isinstance(value, SigmaNumber):
            number = value.number
            as_text = str(number)
            return lambda v: v == number if type(v) in (int, float) else (type(v) is str and v.strip() == as_text)
        if isinstance(value, SigmaCompareExpression):
            return _compare_test(value)
        if isinstance(value, SigmaCIDRExpression):
            network = value.network

            def in_net(v: Any) -> bool:
                if type(v) is not str:
                    return False
                try:
                    return ipaddress.ip_address(v.strip()) in network
                except ValueError:
                    return False

            return in_net
        raise Unsupported(f"value type {type(value).__name__} ({value})")


def _plain(s: SigmaString) -> bool:
    return all(type(p) is str for p in s.s)


def _string_test(s: SigmaString) -> Test:
    if any(isinstance(p, Placeholder) for p in s.s):
        raise Unsupported(f"placeholder in {s.original!r} (needs a processing pipeline that fills it)")
    cased = isinstance(s, SigmaCasedString)
    parts = s.s
    multi = SpecialChars.WILDCARD_MULTI
    if _plain(s):
        want = _joined(s)
        if cased:
            return lambda v: text(v) == want
        low = want.lower()
        return lambda v: (t := text(v)) is not None and t.lower() == low
    if not cased and all(type(p) is str or p is multi for p in parts):
        literal = [p for p in parts if type(p) is str]
        if len(literal) == 1:
            needle = literal[0].lower()
            if parts[0] is multi and parts[-1] is multi and len(parts) == 3:
                return lambda v: (t := text(v)) is not None and needle in t.lower()
            if parts[-1] is multi and len(parts) == 2:
                return lambda v: (t := text(v)) is not None and t.lower().startswith(needle)
            if parts[0] is multi and len(parts) == 2:
                return lambda v: (t := text(v)) is not None and t.lower().endswith(needle)
        if not literal:  # `*` alone: any non-null value
            return lambda v: v is not None and v is not MISSING
    pattern = "".join(re.escape(p) if type(p) is str else (".*" if p is multi else ".") for p in parts)
    rx = re.compile(pattern, re.DOTALL | (0 if cased else re.IGNORECASE))
    return lambda v: (t := text(v)) is not None and rx.fullmatch(t) is not None


def _regex_test(value: SigmaRegularExpression) -> Test:
    regexp = value.regexp
    source = regexp if isinstance(regexp, str) else regexp.original
    flags = 0
    inline = ""
    for flag in value.flags:
        if flag is SigmaRegularExpressionFlag.IGNORECASE:
            flags |= re.IGNORECASE
            inline += "i"
        elif flag is SigmaRegularExpressionFlag.MULTILINE:
            flags |= re.MULTILINE
            inline += "m"
        elif flag is SigmaRegularExpressionFlag.DOTALL:
            flags |= re.DOTALL
            inline += "s"
    rx = _compile_regex(source, flags, inline)
    return lambda v: (t := text(v)) is not None and rx.search(t) is not None


_BACKTRACKING = re.compile(r"\(\?<?[=!]|\\[1-9]|\(\?P=")
"""Lookarounds and back-references: what RE2 cannot run (those rules use Python's `re`)."""


def _compile_regex(source: str, flags: int, inline: str) -> Any:
    """RE2 (linear time: an event cannot make a rule's pattern backtrack for ever) where it can express the
    pattern; Python's `re` for lookarounds and back-references."""
    if _re2 is not None and not _BACKTRACKING.search(source):
        try:
            return _re2.compile(f"(?{inline}){source}" if inline else source)
        except Exception:
            pass
    try:
        return re.compile(source, flags)
    except re.error as exc:
        raise Unsupported(f"regular expression {source!r} does not compile: {exc}") from None


_OPS: dict[CompareOperators, Callable[[float, float], bool]] = {
    CompareOperators.LT: lambda a, b: a < b,
    CompareOperators.LTE: lambda a, b: a <= b,
    CompareOperators.GT: lambda a, b: a > b,
    CompareOperators.GTE: lambda a, b: a >= b,
}


def _compare_test(value: SigmaCompareExpression) -> Test:
    op = _OPS.get(value.op)
    if op is None:
        raise Unsupported(f"comparison {value.op}")
    bound = float(value.number.number)

    def compare(v: Any) -> bool:
        if type(v) is bool:
            return False
        if type(v) in (int, float):
            return op(float(v), bound)
        if type(v) is str:
            try:
                return op(float(v), bound)
            except ValueError:
                return False
        return False

    return compare


def _joined(s: SigmaString) -> str:
    """The literal text of a string without wildcards (escapes resolved)."""
    return "".join(p for p in s.s if type(p) is str)


def _escape(literal: str) -> str:
    """`literal` written as a Sigma string (its wildcards and backslashes escaped)."""
    return literal.replace("\\", "\\\\").replace("*", "\\*").replace("?", "\\?")
