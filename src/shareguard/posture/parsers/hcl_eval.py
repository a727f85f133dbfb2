"""Terraform expressions evaluated as far as they are static: values as Terraform would compute them from
variable defaults, `*.tfvars`, locals and module arguments, never guessed.

The HCL loaders keep every non-literal expression as its source text `${…}`. `Evaluator.value` parses that text
(a small Pratt parser for HCL's expression grammar) and computes it over a `Scope`: `var.*`, `local.*`, `each.*`,
a `dynamic` block's iterator. Supported: literals, string templates, tuples and objects, `a ? b : c`, `!`, `&&`,
`||`, comparisons, arithmetic, attribute and index access, and the functions configurations use to pick
settings (`lookup`, `try`, `can`, `coalesce`, `merge`, `concat`, `contains`, `length`, `element`, `keys`,
`values`, `join`, `split`, `lower`, `upper`, `tobool`, `tostring`, `tonumber`, `tolist`, `toset`, `tomap`,
`compact`). Everything else (resource attributes, data sources, module outputs, `for` expressions, other
functions) is `UNKNOWN_VALUE`, and an expression that depends on it stays as its text: checks see an unresolved
value (never a secure one).

Budgets: expressions over `MAX_EXPR_CHARS`, nesting over `MAX_DEPTH` and more than `MAX_STEPS` evaluation steps
per file stay unevaluated (unknown), they never raise.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

MAX_EXPR_CHARS = 20_000
MAX_DEPTH = 64
MAX_STEPS = 200_000


class _Unknown:
    def __repr__(self) -> str:
        return "UNKNOWN"


UNKNOWN_VALUE = _Unknown()


class EvalError(Exception):
    """The expression fails as Terraform would fail it (a missing key, a wrong type): `try` moves on."""


class _Giveup(Exception):
    """Outside what is evaluated statically (syntax not handled, a budget): the value is unknown."""


_TOKEN = re.compile(
    r"""\s*(?:
    (?P<num>\d+(?:\.\d+)?(?:[eE][+-]?\d+)?)
  | (?P<str>")
  | (?P<heredoc><<-?)
  | (?P<op>==|!=|<=|>=|&&|\|\||=>|\.\.\.|[?:!<>+\-*/%.,\[\](){}=])
  | (?P<ident>[A-Za-z_][\w-]*)
    )""",
    re.X,
)


@dataclass
class Scope:
    variables: dict[str, Any]
    locals_raw: dict[str, Any] = field(default_factory=dict)
    iterators: dict[str, Any] = field(default_factory=dict)
    """`each`, a dynamic block's iterator name → {"key": …, "value": …} (or UNKNOWN_VALUE)."""

    def child(self, name: str, value: Any) -> Scope:
        return Scope(self.variables, self.locals_raw, {**self.iterators, name: value})


class Evaluator:
    """Evaluates the values of one file (shares its step budget and the locals it has computed)."""

    def __init__(self, scope: Scope) -> None:
        self.scope = scope
        self.steps = 0
        self._locals: dict[str, Any] = {}
        self._computing: set[str] = set()

    # --- values of a parsed document -----------------------------------------------------------------

    def value(self, raw: Any, scope: Scope | None = None, depth: int = 0) -> Any:
        """`raw` with every static expression computed; an expression that stays unknown keeps its text."""
        scope = scope or self.scope
        if depth > MAX_DEPTH:
            return raw
        if isinstance(raw, str):
            if "${" not in raw:
                return raw
            got = self._template(raw, scope)
            return raw if _has_unknown(got) else got
        if isinstance(raw, dict):
            return {k: self.value(v, scope, depth + 1) for k, v in raw.items()}
        if isinstance(raw, list):
            return [self.value(v, scope, depth + 1) for v in raw]
        return raw

    def compute(self, raw: Any, scope: Scope | None = None) -> Any:
        """Like `value`, but an unknown result is `UNKNOWN_VALUE` (for count, for_each, conditions)."""
        scope = scope or self.scope
        if isinstance(raw, str) and "${" in raw:
            return self._template(raw, scope)
        if isinstance(raw, dict | list):
            got = self.value(raw, scope)
            return UNKNOWN_VALUE if _has_unknown(got) or _has_expr(got) else got
        return raw

    def _template(self, text: str, scope: Scope) -> Any:
        if len(text) > MAX_EXPR_CHARS:
            return UNKNOWN_VALUE
        try:
            if text.startswith("${") and _matching(text, 1) == len(text) - 1:
                return self._expr(text[2:-1], scope)
            return self._interpolate(text, scope)
        except (_Giveup, EvalError, RecursionError):
            return UNKNOWN_VALUE

    def _interpolate(self, text: str, scope: Scope) -> Any:
        out: list[str] = []
        i = 0
        while i < len(text):
            j = text.find("${", i)
            k = text.find("%{", i)
            if k >= 0 and (j < 0 or k < j):
                raise _Giveup("template directive")
            if j < 0:
                out.append(text[i:])
                break
            out.append(text[i:j])
            end = _matching(text, j + 1)
            if end < 0:
                raise _Giveup("unclosed interpolation")
            got = self._expr(text[j + 2 : end], scope)
            if got is UNKNOWN_VALUE or isinstance(got, dict | list):
                return UNKNOWN_VALUE
            out.append(_to_string(got))
            i = end + 1
        return "".join(out)

    def _expr(self, text: str, scope: Scope) -> Any:
        tokens = _tokenize(text)
        parser = _Parser(tokens, self, scope)
        result = parser.expression(0)
        if parser.pos != len(tokens):
            raise _Giveup("trailing tokens")
        return result

    # --- references --------------------------------------------------------------------------------

    def step(self) -> None:
        self.steps += 1
        if self.steps > MAX_STEPS:
            raise _Giveup("step budget")

    def root(self, name: str, scope: Scope) -> Any:
        if name == "var":
            return _Vars(scope.variables)
        if name == "local":
            return _LazyLocals(self, scope)
        if name in scope.iterators:
            return scope.iterators[name]
        return UNKNOWN_VALUE

    def local(self, name: str, scope: Scope) -> Any:
        if name in self._locals:
            return self._locals[name]
        if name not in scope.locals_raw:
            raise EvalError(f"no local {name}")
        if name in self._computing:
            raise _Giveup("cyclic local")
        self._computing.add(name)
        try:
            got = self.compute(scope.locals_raw[name], Scope(scope.variables, scope.locals_raw))
        finally:
            self._computing.discard(name)
        self._locals[name] = got
        return got


class _Vars:
    """`var`: a variable without a default (nor a tfvars value) is an input given at apply time: unknown."""

    def __init__(self, values: dict[str, Any]) -> None:
        self.values = values


class _LazyLocals:
    def __init__(self, ev: Evaluator, scope: Scope) -> None:
        self.ev, self.scope = ev, scope


def _matching(text: str, open_at: int) -> int:
    """Index of the `}` closing the `{` at `open_at` (strings inside skipped), or -1."""
    depth = 0
    i = open_at
    in_str = False
    while i < len(text):
        c = text[i]
        if in_str:
            if c == "\\":
                i += 2
                continue
            if c == '"':
                in_str = False
        elif c == '"':
            in_str = True
        elif c == "{":
            depth += 1
        elif c == "}":
            depth -= 1
            if depth == 0:
                return i
        i += 1
    return -1


def _tokenize(text: str) -> list[tuple[str, str]]:
    out: list[tuple[str, str]] = []
    i = 0
    n = len(text)
    while i < n:
        if text[i].isspace():
            i += 1
            continue
        m = _TOKEN.match(text, i)
        if m is None or m.end() == i:
            raise _Giveup(f"unexpected {text[i]!r}")
        kind = m.lastgroup or ""
        if kind == "str":
            start = m.end()
            j = start
            while j < n and text[j] != '"':
                if text[j] == "\\":
                    j += 2
                    continue
                if text.startswith("${", j):
                    end = _matching(text, j + 1)
                    if end < 0:
                        raise _Giveup("unclosed interpolation")
                    j = end + 1
                    continue
                j += 1
            out.append(("str", _unescape(text[start:j])))
            i = j + 1
            continue
        if kind == "heredoc":
            raise _Giveup("heredoc in an expression")
        out.append((kind, m.group(kind)))
        i = m.end()
    return out


_ESCAPES = {"n": "\n", "t": "\t", "r": "\r", '"': '"', "\\": "\\"}


def _unescape(s: str) -> str:
    return re.sub(r"\\(.)", lambda m: _ESCAPES.get(m.group(1), m.group(0)), s)


_BINARY = {
    "||": 1,
    "&&": 2,
    "==": 3,
    "!=": 3,
    "<": 4,
    ">": 4,
    "<=": 4,
    ">=": 4,
    "+": 5,
    "-": 5,
    "*": 6,
    "/": 6,
    "%": 6,
}


class _Parser:
    """Parses and evaluates at once (an expression is evaluated once; unknowns flow through)."""

    def __init__(self, tokens: list[tuple[str, str]], ev: Evaluator, scope: Scope) -> None:
        self.toks, self.pos, self.ev, self.scope = tokens, 0, ev, scope
        self.depth = 0

    def peek(self) -> tuple[str, str]:
        return self.toks[self.pos] if self.pos < len(self.toks) else ("eof", "")

    def take(self, text: str | None = None) -> tuple[str, str]:
        tok = self.peek()
        if tok[0] == "eof" or (text is not None and tok[1] != text):
            raise _Giveup(f"expected {text}")
        self.pos += 1
        return tok

    def expression(self, min_prec: int) -> Any:
        self.depth += 1
        if self.depth > MAX_DEPTH:
            raise _Giveup("too deep")
        self.ev.step()
        left = self.unary()
        while True:
            kind, text = self.peek()
            if kind == "op" and text in _BINARY and _BINARY[text] > min_prec:
                self.pos += 1
                right = self.expression(_BINARY[text])
                left = _binary(text, left, right)
                continue
            if kind == "op" and text == "?" and min_prec == 0:
                self.pos += 1
                a = self.expression(0)
                self.take(":")
                b = self.expression(0)
                left = _conditional(left, a, b)
                continue
            break
        self.depth -= 1
        return left

    def unary(self) -> Any:
        kind, text = self.peek()
        if kind == "op" and text == "!":
            self.pos += 1
            v = self.unary()
            return UNKNOWN_VALUE if v is UNKNOWN_VALUE else not _bool(v)
        if kind == "op" and text == "-":
            self.pos += 1
            v = self.unary()
            return UNKNOWN_VALUE if v is UNKNOWN_VALUE else -_number(v)
        return self.postfix(self.primary())

    def primary(self) -> Any:
        kind, text = self.take()
        if kind == "num":
            return float(text) if any(c in text for c in ".eE") else int(text)
        if kind == "str":
            return self.ev._interpolate(text, self.scope) if "${" in text else text
        if kind == "op" and text == "(":
            v = self.expression(0)
            self.take(")")
            return v
        if kind == "op" and text == "[":
            if self.peek() == ("ident", "for"):
                raise _Giveup("for expression")
            items: list[Any] = []
            while self.peek()[1] != "]":
                items.append(self.expression(0))
                if self.peek()[1] == ",":
                    self.pos += 1
            self.take("]")
            return items
        if kind == "op" and text == "{":
            if self.peek() == ("ident", "for"):
                raise _Giveup("for expression")
            obj: dict[str, Any] = {}
            while self.peek()[1] != "}":
                k_kind, k_text = self.peek()
                nxt = self.toks[self.pos + 1] if self.pos + 1 < len(self.toks) else ("eof", "")
                if k_kind == "ident" and nxt[1] in ("=", ":"):
                    self.pos += 1
                    key: Any = k_text
                else:
                    key = self.expression(0)
                sep = self.take()
                if sep[1] not in ("=", ":"):
                    raise _Giveup("object element")
                val = self.expression(0)
                if key is UNKNOWN_VALUE:
                    return UNKNOWN_VALUE
                obj[_to_string(key)] = val
                if self.peek()[1] == ",":
                    self.pos += 1
            self.take("}")
            return obj
        if kind == "ident":
            if text in ("true", "false"):
                return text == "true"
            if text == "null":
                return None
            if self.peek()[1] == "(":
                return self.call(text)
            return self.ev.root(text, self.scope)
        raise _Giveup(f"unexpected {text}")

    def postfix(self, value: Any) -> Any:
        while True:
            kind, text = self.peek()
            if kind == "op" and text == ".":
                self.pos += 1
                k2, name = self.take()
                if k2 == "op" and name == "*":
                    raise _Giveup("splat")
                value = self.attr(value, name)
            elif kind == "op" and text == "[":
                self.pos += 1
                if self.peek()[1] == "*":
                    raise _Giveup("splat")
                idx = self.expression(0)
                self.take("]")
                value = self.index(value, idx)
            else:
                return value

    def attr(self, value: Any, name: str) -> Any:
        if isinstance(value, _LazyLocals):
            return self.ev.local(name, value.scope)
        if isinstance(value, _Vars):
            return value.values.get(name, UNKNOWN_VALUE)
        return self.index(value, name)

    def index(self, value: Any, key: Any) -> Any:
        if value is UNKNOWN_VALUE or key is UNKNOWN_VALUE:
            return UNKNOWN_VALUE
        if isinstance(value, dict):
            if _to_string(key) not in value:
                raise EvalError(f"no key {key}")
            return value[_to_string(key)]
        if isinstance(value, list):
            try:
                return value[int(_number(key))]
            except (IndexError, ValueError) as exc:
                raise EvalError(str(exc)) from None
        if isinstance(value, str) and "${" in value:
            return UNKNOWN_VALUE  # an expression kept as text (e.g. a variable default that references others)
        raise EvalError(f"cannot index {type(value).__name__}")

    def call(self, name: str) -> Any:
        self.take("(")
        if name in ("try", "can"):
            return self._try(name)
        args: list[Any] = []
        while self.peek()[1] != ")":
            args.append(self.expression(0))
            if self.peek()[1] == "...":
                raise _Giveup("expansion")
            if self.peek()[1] == ",":
                self.pos += 1
        self.take(")")
        fn = _FUNCTIONS.get(name)
        if fn is None:
            return UNKNOWN_VALUE
        if any(a is UNKNOWN_VALUE for a in args) and name not in ("coalesce", "merge", "lookup"):
            return UNKNOWN_VALUE
        return fn(args)

    def _try(self, name: str) -> Any:
        """`try(a, b…)`: the first argument that evaluates without error; `can(a)`: whether it does."""
        result: Any = None
        found = False
        while self.peek()[1] != ")":
            start = self.pos
            if not found:
                try:
                    got = self.expression(0)
                    if got is UNKNOWN_VALUE:
                        return self._skip_call(UNKNOWN_VALUE)
                    result, found = got, True
                except EvalError:
                    self.pos = start
                    self._skip_argument()
            else:
                self._skip_argument()
            if self.peek()[1] == ",":
                self.pos += 1
        self.take(")")
        if name == "can":
            return found
        if not found:
            raise EvalError("no try argument succeeded")
        return result

    def _skip_argument(self) -> None:
        depth = 0
        while True:
            kind, text = self.peek()
            if kind == "eof":
                raise _Giveup("unclosed call")
            if depth == 0 and text in (",", ")"):
                return
            if text in ("(", "[", "{"):
                depth += 1
            elif text in (")", "]", "}"):
                depth -= 1
            self.pos += 1

    def _skip_call(self, value: Any) -> Any:
        while self.peek()[1] != ")":
            self._skip_argument()
            if self.peek()[1] == ",":
                self.pos += 1
        self.take(")")
        return value


def _has_unknown(value: Any) -> bool:
    if value is UNKNOWN_VALUE or isinstance(value, _LazyLocals | _Vars):
        return True
    if isinstance(value, dict):
        return any(_has_unknown(v) for v in value.values())
    if isinstance(value, list):
        return any(_has_unknown(v) for v in value)
    return False


def _has_expr(value: Any) -> bool:
    if isinstance(value, str):
        return "${" in value
    if isinstance(value, dict):
        return any(_has_expr(v) for v in value.values())
    if isinstance(value, list):
        return any(_has_expr(v) for v in value)
    return False


def _bool(v: Any) -> bool:
    if isinstance(v, bool):
        return v
    if isinstance(v, str) and v.lower() in ("true", "false"):
        return v.lower() == "true"
    raise EvalError(f"not a bool: {v!r}")


def _number(v: Any) -> float | int:
    if isinstance(v, bool):
        raise EvalError("bool is not a number")
    if isinstance(v, int | float):
        return v
    if isinstance(v, str):
        try:
            return int(v)
        except ValueError:
            try:
                return float(v)
            except ValueError:
                pass
    raise EvalError(f"not a number: {v!r}")


def _to_string(v: Any) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if v is None:
        raise EvalError("null in a string")
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    if isinstance(v, dict | list):
        raise EvalError("collection in a string")
    return str(v)


def _conditional(cond: Any, a: Any, b: Any) -> Any:
    if cond is UNKNOWN_VALUE:
        return UNKNOWN_VALUE
    return a if _bool(cond) else b


def _binary(op: str, a: Any, b: Any) -> Any:
    if op in ("&&", "||"):
        if a is not UNKNOWN_VALUE and b is not UNKNOWN_VALUE:
            return (_bool(a) and _bool(b)) if op == "&&" else (_bool(a) or _bool(b))
        known = b if a is UNKNOWN_VALUE else a
        if known is not UNKNOWN_VALUE and _bool(known) is (op == "||"):
            return op == "||"  # false && x, true || x
        return UNKNOWN_VALUE
    if a is UNKNOWN_VALUE or b is UNKNOWN_VALUE:
        return UNKNOWN_VALUE
    if op == "==":
        return _eq(a, b)
    if op == "!=":
        return not _eq(a, b)
    x, y = _number(a), _number(b)
    if op == "<":
        return x < y
    if op == ">":
        return x > y
    if op == "<=":
        return x <= y
    if op == ">=":
        return x >= y
    if op == "+":
        return x + y
    if op == "-":
        return x - y
    if op == "*":
        return x * y
    if y == 0:
        raise EvalError("division by zero")
    return x / y if op == "/" else x % y


def _eq(a: Any, b: Any) -> bool:
    if isinstance(a, bool) or isinstance(b, bool):
        return a is b
    if isinstance(a, int | float) and isinstance(b, int | float):
        return a == b
    return bool(a == b)


def _lookup(args: list[Any]) -> Any:
    if len(args) not in (2, 3):
        raise EvalError("lookup takes 2 or 3 arguments")
    m, key = args[0], args[1]
    if m is UNKNOWN_VALUE or key is UNKNOWN_VALUE:
        return UNKNOWN_VALUE
    if not isinstance(m, dict):
        raise EvalError("lookup on a non-map")
    k = _to_string(key)
    if k in m:
        return m[k]
    if len(args) == 3:
        return args[2]
    raise EvalError(f"no key {k}")


def _coalesce(args: list[Any]) -> Any:
    for a in args:
        if a is UNKNOWN_VALUE:
            return UNKNOWN_VALUE  # an unknown earlier argument may be the non-null one
        if a is not None and a != "":
            return a
    raise EvalError("no non-null argument")


def _merge(args: list[Any]) -> Any:
    out: dict[str, Any] = {}
    for a in args:
        if a is UNKNOWN_VALUE:
            return UNKNOWN_VALUE
        if a is None:
            continue
        if not isinstance(a, dict):
            raise EvalError("merge of a non-map")
        out.update(a)
    return out


def _tobool(args: list[Any]) -> Any:
    return None if args[0] is None else _bool(args[0])


def _length(args: list[Any]) -> int:
    v = args[0]
    if isinstance(v, dict | list | str):
        return len(v)
    raise EvalError("length of a scalar")


_FUNCTIONS: dict[str, Callable[[list[Any]], Any]] = {
    "lookup": _lookup,
    "coalesce": _coalesce,
    "merge": _merge,
    "tobool": _tobool,
    "tostring": lambda a: None if a[0] is None else _to_string(a[0]),
    "tonumber": lambda a: None if a[0] is None else _number(a[0]),
    "tolist": lambda a: list(a[0]) if isinstance(a[0], list) else _fail("tolist"),
    "toset": lambda a: list(dict.fromkeys(a[0])) if isinstance(a[0], list) else _fail("toset"),
    "tomap": lambda a: dict(a[0]) if isinstance(a[0], dict) else _fail("tomap"),
    "lower": lambda a: _to_string(a[0]).lower(),
    "upper": lambda a: _to_string(a[0]).upper(),
    "length": _length,
    "contains": lambda a: any(_eq(x, a[1]) for x in a[0]) if isinstance(a[0], list) else _fail("contains"),
    "concat": lambda a: [x for lst in a for x in (lst if isinstance(lst, list) else _fail("concat"))],
    "element": lambda a: a[0][int(_number(a[1])) % len(a[0])] if isinstance(a[0], list) and a[0] else _fail("element"),
    "keys": lambda a: sorted(a[0]) if isinstance(a[0], dict) else _fail("keys"),
    "values": lambda a: [a[0][k] for k in sorted(a[0])] if isinstance(a[0], dict) else _fail("values"),
    "join": lambda a: _to_string(a[0]).join(_to_string(x) for x in a[1]) if isinstance(a[1], list) else _fail("join"),
    "split": lambda a: _to_string(a[1]).split(_to_string(a[0])),
    "compact": lambda a: [x for x in a[0] if x not in (None, "")] if isinstance(a[0], list) else _fail("compact"),
}


def _fail(name: str) -> Any:
    raise EvalError(f"{name}: wrong argument type")
