"""A streaming pickle opcode walk (protocols 0-5) that never executes anything.

It keeps a symbolic stack and memo, just enough to tell which globals a pickle imports and calls:
`GLOBAL`/`INST` name them directly; `STACK_GLOBAL` names them with strings from the stack, which may
come from the memo (`GET` of a `MEMOIZE`d string) — anything it cannot resolve to two plain strings
is reported as unresolved, never dropped. Every pickle in the stream is walked (concatenated
pickles, a payload after a benign prefix); the walk stops at the first byte that is no opcode and
says where. Huge byte/str arguments are skipped by seeking, so memory is independent of the file
size. No name found in the stream is ever imported.

The memo keeps only what the decision needs (`_Memo`): per key 4 bytes saying what the entry is — a
string that could name an import (its UTF-8 bytes in one arena), a global, a call result derived from
a global, or any other object (not kept). Memory is bounded whatever the object count. A tracking
budget (memo keys, memo text, tracked globals, stack depth) ends precise tracking, never the search
for imports: what could not be tracked becomes `LOST`, and a `STACK_GLOBAL` built from a `LOST`
value is an import that cannot be resolved to a safe name — reported as dangerous.
"""

from __future__ import annotations

import re
import struct
from array import array
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from shareguard.models.formats.stream import ChunkedReader, Truncated

# Arguments longer than this are skipped, not read (a symbolic value stands in for them).
MAX_KEPT_ARG = 4096
MAX_LINE = 1 << 20
MAX_STACK = 2_000_000
"""Stack items (and MARK nesting). Past it the stack is dropped and the walk goes on (`LOST` values)."""
MAX_MEMO = 8_000_000
"""Memo keys tracked 4 bytes each (32 MB). Later keys: only strings and globals are kept (`MAX_MEMO_EXTRA`)."""
MAX_MEMO_EXTRA = 262_144
"""Memo entries kept outside the dense key range (out-of-order `PUT` keys, names past `MAX_MEMO`)."""
MAX_MEMO_TEXT = 32 << 20
"""Bytes of memoised strings kept (each string that could name an import: up to 255 UTF-8 bytes)."""
MAX_NAME = 255
MAX_TRACKED = 65_536
"""Distinct globals (and dtype objects) the memo can refer to."""
MAX_KEPT_ITEMS = 64
MAX_PICKLES = 100_000
MAX_NESTED = 8
MAX_OPCODES = 200_000_000
"""Per stream: at ~1.4 M opcodes/s this bounds one file to a few minutes of CPU."""

_DOTTED = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*$")
_TORCH_LEGACY_MAGIC = 0x1950A86A20F9469CFC6C


class _Mark:
    __slots__ = ()

    def __repr__(self) -> str:
        return "MARK"


class _Opaque:
    """A value the walk does not model (numbers it need not know, skipped blobs, buffers)."""

    __slots__ = ("what",)

    def __init__(self, what: str) -> None:
        self.what = what

    def __repr__(self) -> str:
        return f"<{self.what}>"


MARK = _Mark()
OPAQUE = _Opaque("value")
SKIPPED = _Opaque("large value")
PERSISTENT = _Opaque("persistent id")
MISSING_MEMO = _Opaque("missing memo entry")
MEMO_OBJECT = _Opaque("memoised object")
"""A memo entry known to hold no string and no global (not kept: the decision does not need it)."""
MEMO_TEXT = _Opaque("memoised string that cannot name an import")
LOST = _Opaque("value not tracked past a budget")
"""Anything: a value the walk stopped tracking when a budget was exceeded (it may be a string or a global)."""


class Glob:
    """A global reference `module.name` (a class or function the unpickler would import)."""

    __slots__ = ("module", "name", "offset", "resolved")

    def __init__(self, module: str, name: str, offset: int, resolved: bool = True) -> None:
        self.module = module
        self.name = name
        self.offset = offset
        self.resolved = resolved

    @property
    def full(self) -> str:
        return f"{self.module}.{self.name}"

    def __repr__(self) -> str:
        return self.full


class Obj:
    """The result of calling/instantiating something: `origin(*args)`, then maybe `BUILD state`."""

    __slots__ = ("args", "origin", "state")

    def __init__(self, origin: Any, args: Any) -> None:
        self.origin = origin
        self.args = args
        self.state: Any = None

    def __repr__(self) -> str:
        return f"{self.origin!r}(...)"


class ListV:
    __slots__ = ("items",)

    def __init__(self) -> None:
        self.items: list[Any] = []

    def add(self, values: list[Any]) -> None:
        room = MAX_KEPT_ITEMS - len(self.items)
        if room > 0:
            self.items.extend(values[:room])


class DictV:
    __slots__ = ("items",)

    def __init__(self) -> None:
        self.items: dict[Any, Any] = {}

    def set(self, key: Any, value: Any) -> None:
        if len(self.items) < MAX_KEPT_ITEMS and isinstance(key, (str, int)):
            self.items[key] = value


@dataclass(frozen=True)
class GlobalUse:
    module: str
    name: str
    offset: int
    opcode: str

    @property
    def full(self) -> str:
        return f"{self.module}.{self.name}"


@dataclass(frozen=True)
class Anomaly:
    """Something the walk could not resolve or that changes global state (reported, never ignored)."""

    kind: str
    """`unresolved_global`, `unresolved_import` (past a budget: dangerous), `computed_call`, `global_mutation`,
    `extension`."""
    offset: int
    detail: str
    origin: str | None = None
    """For a call of a computed object: the global it was derived from (already reported on its own)."""


@dataclass
class WalkResult:
    globals: list[GlobalUse] = field(default_factory=list)
    anomalies: list[Anomaly] = field(default_factory=list)
    pickles: int = 0
    opcodes: int = 0
    protocol: int = 0
    error: str | None = None
    """Why the walk stopped early (truncated, invalid opcode, budget), with the offset."""
    error_offset: int | None = None
    trailing_offset: int | None = None
    """Where non-pickle data starts after the last complete pickle."""
    torch_legacy: bool = False
    malformed: list[str] = field(default_factory=list)
    """Recoverable oddities (memo key never set, stack underflow) the walk carried on through."""

    budgets: list[str] = field(default_factory=list)
    """Tracking budgets exceeded (precise tracking ended there; the search for imports went on)."""
    global_counts: dict[tuple[str, str], int] = field(default_factory=dict)
    """Occurrences of each (module, name); `globals` lists the first occurrence only."""
    resolved_calls: dict[str, int] = field(default_factory=dict)
    """Calls of a name-resolving callable (`builtins.getattr(<global>, "attr")`,
    `numpy.core._ufunc_reconstruct("module", "name")`) with constant arguments, each recorded as the
    global it reaches (`module.Class.attr`, `module.name`)."""
    other_uses: dict[str, int] = field(default_factory=dict)
    """Any other use of such a callable seen in a call: computed arguments, dunder names, passed on."""

    def fully_resolved(self, full: str) -> bool:
        """Every use of this name-resolving callable reached a constant name: judge those names instead.

        pandas pickles a tz-aware column as `getattr(zoneinfo.ZoneInfo, "_unpickle")(key, 1)`, old numpy
        a ufunc as `_ufunc_reconstruct("numpy", "log1p")`: the name reached is what matters."""
        return self.resolved_calls.get(full, 0) > 0 and not self.other_uses.get(full, 0)

    @property
    def complete(self) -> bool:
        return self.error is None

    def add_global(self, use: GlobalUse) -> None:
        key = (use.module, use.name)
        n = self.global_counts.get(key)
        if n is None:
            self.globals.append(use)
            self.global_counts[key] = 1
        else:
            self.global_counts[key] = n + 1

    def over_budget(self, what: str) -> None:
        if what not in self.budgets:
            self.budgets.append(what)


BuildHook = Callable[["Obj", ChunkedReader, "PickleWalker"], None]


class WalkError(Exception):
    pass


def _u16(b: bytes) -> int:
    return int(struct.unpack("<H", b)[0])


def _i32(b: bytes) -> int:
    return int(struct.unpack("<i", b)[0])


def _u32(b: bytes) -> int:
    return int(struct.unpack("<I", b)[0])


def _u64(b: bytes) -> int:
    return int(struct.unpack("<Q", b)[0])


# Memo entry codes: the low 2 bits are a tag. Tag 0: a kind with no payload; tag 1: a string at arena
# offset `code >> 2`; tag 2: tracked object `code >> 2` (a global or a dtype); tag 3: the result of a
# call derived from tracked global `code >> 2`.
_C_OBJECT = 0
_C_TEXT = 4
_C_LOST = 8
_NAMEABLE = re.compile(r"\S*\Z")


class _Memo:
    """The unpickler's memo, reduced to what decides which globals are imported and called.

    Keys `0..len(dense)-1` (the pickler numbers them in order) cost 4 bytes each; other keys live in
    `extra`. `seq` is the contiguous prefix of set keys: keys below it that are in neither table hold
    an object that was not kept. `size` is the count of distinct keys, the key MEMOIZE uses; when it
    can no longer be known (a key could not be recorded), every later lookup is `LOST`."""

    __slots__ = ("arena", "dead", "dense", "extra", "lost", "res", "seq", "size", "tidx", "tracked", "vcache")

    def __init__(self, res: WalkResult) -> None:
        self.res = res
        self.dense = array("I")
        self.extra: dict[int, int] = {}
        self.seq = 0
        self.size = 0
        """Distinct keys set (-1: unknown)."""
        self.lost = False
        """Some entry past the dense range could not be recorded: unknown entries there are `LOST`."""
        self.dead = False
        """A MEMOIZE happened while `size` was unknown: no entry can be trusted any more."""
        self.arena = bytearray()
        self.vcache: dict[int, Any] = {}
        """Code → value of strings and tracked objects looked up lately (bounded)."""
        self.tracked: list[Any] = []
        self.tidx: dict[int, int] = {}

    def _track(self, v: Any) -> int:
        i = self.tidx.get(id(v))
        if i is not None:
            return i
        if len(self.tracked) >= MAX_TRACKED:
            self.res.over_budget(f"memo: over {MAX_TRACKED} distinct globals tracked")
            return -1
        i = self.tidx[id(v)] = len(self.tracked)
        self.tracked.append(v)
        return i

    def code(self, v: Any, dense: bool) -> int:
        t = type(v)
        if t is str:
            if len(v) > MAX_NAME or not (v.isidentifier() or _NAMEABLE.match(v)):
                return _C_TEXT
            b = v.encode("utf-8", "surrogatepass")
            if len(b) > 255:
                return _C_TEXT
            arena = self.arena
            off = len(arena)
            if off + len(b) >= MAX_MEMO_TEXT:
                self.res.over_budget(f"memo: over {MAX_MEMO_TEXT} bytes of memoised names")
                return _C_LOST
            arena.append(len(b))
            arena += b
            return (off << 2) | 1
        if t is Glob or (t is Obj and type(v.origin) is Glob and v.origin.name == "dtype"):
            i = self._track(v)
            return _C_LOST if i < 0 else (i << 2) | 2
        if t is Obj and dense:
            root = _root(v)
            if type(root) is Glob:
                i = self._track(root)
                return _C_LOST if i < 0 else (i << 2) | 3
            return _C_OBJECT
        if v is LOST:
            return _C_LOST
        if v is MEMO_TEXT:
            return _C_TEXT
        return _C_OBJECT

    def value(self, c: int) -> Any:
        tag = c & 3
        if tag == 1 or tag == 2:
            v = self.vcache.get(c)
            if v is None:
                if tag == 2:
                    v = self.tracked[c >> 2]
                else:
                    off = c >> 2
                    v = self.arena[off + 1 : off + 1 + self.arena[off]].decode("utf-8", "surrogatepass")
                if len(self.vcache) >= 65_536:
                    self.vcache.clear()
                self.vcache[c] = v
            return v
        if tag == 3:
            return Obj(self.tracked[c >> 2], OPAQUE)
        if c == _C_OBJECT:
            return MEMO_OBJECT
        if c == _C_TEXT:
            return MEMO_TEXT
        return LOST

    def _extra(self, key: int, c: int) -> bool:
        if len(self.extra) >= MAX_MEMO_EXTRA and key not in self.extra:
            self.res.over_budget(f"memo: over {MAX_MEMO_EXTRA} entries outside the key sequence")
            return False
        self.extra[key] = c
        return True

    def put(self, key: int, v: Any) -> None:
        if key < 0:
            raise WalkError("negative memo key")  # the unpickler stops here too
        dense = self.dense
        n = len(dense)
        if key < n:
            dense[key] = self.code(v, True)
            return
        extra = self.extra
        if key in extra:
            extra[key] = self.code(v, False)
            return
        if key < self.seq:  # set before; an object that was not kept
            c = self.code(v, False)
            if c != _C_OBJECT and not self._extra(key, c):
                self.lost = True
            return
        # a new key (unless an earlier one could not be recorded: then the count is unknown)
        if self.size >= 0:
            self.size += 1
        if key == self.seq:
            self.seq += 1
            if key == n and n < MAX_MEMO:
                dense.append(self.code(v, True))
            else:
                if n >= MAX_MEMO:
                    self.res.over_budget(f"memo: over {MAX_MEMO} keys tracked one by one")
                c = self.code(v, False)
                if c != _C_OBJECT and not self._extra(key, c):
                    self.lost = True
            while self.seq in extra:
                self.seq += 1
        elif not self._extra(key, self.code(v, False)):
            self.lost = True
            self.size = -1  # whether a later PUT of this key is new can no longer be told

    def memoize(self, v: Any) -> None:
        if self.size < 0:
            self.dead = True
            self.res.over_budget("memo: keys no longer known")
            return
        self.put(self.size, v)

    def get(self, key: int) -> Any:
        """The entry, `LOST` when tracking ended for it, or None when the key was never set."""
        if self.dead:
            return LOST
        if key < 0:
            return None
        if key < len(self.dense):
            return self.value(self.dense[key])
        c = self.extra.get(key)
        if c is not None:
            return self.value(c)
        if key < self.seq:
            return LOST if self.lost else MEMO_OBJECT
        if self.lost:
            return LOST
        return None


class PickleWalker:
    """Walks one stream; `walk_all` loops over concatenated pickles."""

    def __init__(self, reader: ChunkedReader, result: WalkResult | None = None, *, probe: bool = False) -> None:
        self.r = reader
        self.res = result or WalkResult()
        self.probe = probe
        self.nested = 0
        self.build_hooks: dict[str, BuildHook] = {}
        self._reset()

    def _reset(self) -> None:
        self.stack: list[Any] = []
        self.metastack: list[list[Any]] = []
        self.memo = _Memo(self.res)
        self.stack_lost = False
        """The stack was dropped over its budget: what was below is `LOST`, not an underflow."""

    # -- stack helpers -------------------------------------------------------------------------
    def _pop(self) -> Any:
        if self.stack:
            return self.stack.pop()
        if self.probe:
            raise WalkError("stack underflow")
        if self.stack_lost:
            return LOST
        self._odd("stack underflow")
        return OPAQUE

    def _pop_mark(self) -> list[Any]:
        items = self.stack
        if self.metastack:
            self.stack = self.metastack.pop()
        else:
            if self.probe:
                raise WalkError("no MARK on the stack")
            if self.stack_lost:
                items = [LOST, *items]  # the MARK was dropped with what was below it
            else:
                self._odd("no MARK on the stack")
            self.stack = []
        return items

    def _push(self, v: Any) -> None:
        if len(self.stack) >= MAX_STACK:
            self._drop_stack()
        self.stack.append(v)

    def _drop_stack(self) -> None:
        """Over the stack budget: forget the stack (its values become `LOST`) and walk on."""
        if self.probe:
            raise WalkError(f"stack over {MAX_STACK} items (budget)")
        self.res.over_budget(f"stack over {MAX_STACK} items")
        self.stack = []
        self.metastack = []
        self.stack_lost = True

    def _odd(self, what: str) -> None:
        if len(self.res.malformed) < 20:
            self.res.malformed.append(f"{what} at offset {self._op_offset}")

    def _memo_put(self, key: int, value: Any) -> None:
        self.memo.put(key, value)

    def _memo_get(self, key: int) -> Any:
        v = self.memo.get(key)
        if v is None:
            if self.probe:
                raise WalkError("memo key never set")
            self._odd(f"memo key {key} never set")
            return MISSING_MEMO
        return v

    def _global(self, module: str, name: str, offset: int, opcode: str) -> Glob:
        if self.probe and not (_DOTTED.match(module) and _DOTTED.match(name)):
            raise WalkError("implausible global name")
        if not self.probe:
            self.res.add_global(GlobalUse(module, name, offset, opcode))
        return Glob(module, name, offset)

    def _anomaly(self, kind: str, detail: str, origin: str | None = None) -> None:
        if not self.probe and len(self.res.anomalies) < 1000:
            self.res.anomalies.append(Anomaly(kind, self._op_offset, detail, origin))

    def _call(self, func: Any, args: Any, opcode: str) -> Obj | Glob:
        if isinstance(args, tuple):
            for a in args:
                if _resolver(a) is not None:  # handed to another callable: never treated as resolved
                    _bump(self.res.other_uses, _resolver(a) or "")
        resolver = _resolver(func)
        if resolver is not None:
            derived = _RESOLVERS[resolver](args) if opcode in ("REDUCE", "OBJ") else None
            if derived is None:
                _bump(self.res.other_uses, resolver)
                return Obj(func, args)
            _bump(self.res.resolved_calls, resolver)
            return self._global(derived[0], derived[1], self._op_offset, resolver)
        if not isinstance(func, Glob):
            root = _root(func)
            self._anomaly(
                "computed_call",
                f"{opcode} calls a computed object {_describe(func)}",
                root.full if isinstance(root, Glob) and root.resolved else None,
            )
        return Obj(func, args)

    # -- reading arguments ---------------------------------------------------------------------
    def _text(self, n: int, encoding: str) -> Any:
        if n > MAX_KEPT_ARG:
            self.r.skip(n)
            return SKIPPED
        raw = self.r.read(n)
        return raw.decode(encoding, errors="backslashreplace")

    def _blob(self, n: int) -> Any:
        if n > MAX_KEPT_ARG:
            self.r.skip(n)
            return SKIPPED
        return self.r.read(n)

    def _line(self) -> bytes:
        return self.r.readline(MAX_LINE)

    def _decode_line(self, raw: bytes) -> str:
        return raw.decode("utf-8", errors="backslashreplace")

    # -- the walk -------------------------------------------------------------------------------
    def walk_all(self) -> WalkResult:
        """Walk every pickle in the stream; stop at trailing data that is not a plausible pickle."""
        res = self.res
        first = True
        try:
            while True:
                start = self.r.tell()
                if self.r.at_eof():
                    if first:
                        res.error, res.error_offset = "empty stream", start
                    return res
                if not first and not _plausible_continuation(self.r):
                    res.trailing_offset = start
                    return res
                value = self.walk_one()
                if first and value == _TORCH_LEGACY_MAGIC:
                    res.torch_legacy = True
                first = False
                if res.pickles >= MAX_PICKLES:
                    res.error, res.error_offset = f"more than {MAX_PICKLES} pickles (budget)", self.r.tell()
                    return res
        except (WalkError, Truncated, ValueError, struct.error, OverflowError, RecursionError) as exc:
            res.error = str(exc) or type(exc).__name__
            res.error_offset = self._op_offset
            return res

    def walk_one(self) -> Any:
        """Walk one pickle up to and including STOP; returns the top-of-stack value (symbolic)."""
        self._reset()
        r = self.r
        res = self.res
        handlers = _HANDLERS
        memo = self.memo
        dense = memo.dense
        vcache = memo.vcache
        ops = 0
        try:
            while True:
                # Hot path: the most frequent opcodes are decoded inline from the reader's buffer.
                buf, pos = r._buf, r._pos
                if pos + 9 > len(buf):
                    r._fill(9)
                    buf, pos = r._buf, r._pos
                    if pos >= len(buf):
                        raise Truncated(f"stream ends at offset {r.tell()}")
                self._op_offset = r._base + pos
                code = buf[pos]
                ops += 1
                if not ops & 0xFFFF:
                    if res.opcodes + ops > MAX_OPCODES:
                        raise WalkError(f"more than {MAX_OPCODES} opcodes (budget); the rest was not analysed")
                    if len(self.stack) > MAX_STACK:  # the inline pushes below do not check it
                        self._drop_stack()
                stack = self.stack
                if code == 0x94:  # MEMOIZE
                    r._pos = pos + 1
                    n = memo.size
                    if stack and n == memo.seq == len(dense) and n < MAX_MEMO:  # keys in order: 4 bytes each
                        v = stack[-1]
                        t = type(v)
                        dense.append(_C_OBJECT if t is DictV or t is ListV or t is tuple else memo.code(v, True))
                        memo.size = memo.seq = n + 1
                    else:
                        _op_memoize(self)
                    continue
                if code == 0x4B:  # BININT1
                    r._pos = pos + 2
                    if pos + 1 >= len(buf):
                        raise Truncated(f"stream ends at offset {r._base + pos + 1}")
                    stack.append(buf[pos + 1])
                    continue
                if code == 0x71:  # BINPUT
                    r._pos = pos + 2
                    if pos + 1 >= len(buf):
                        raise Truncated(f"stream ends at offset {r._base + pos + 1}")
                    self._memo_put(buf[pos + 1], _top(self))
                    continue
                if code == 0x68 or code == 0x6A:  # BINGET, LONG_BINGET
                    if code == 0x68:
                        r._pos = pos + 2
                        if pos + 1 >= len(buf):
                            raise Truncated(f"stream ends at offset {r._base + pos + 1}")
                        key = buf[pos + 1]
                    else:
                        r._pos = pos + 5
                        if pos + 5 > len(buf):
                            raise Truncated(f"stream ends at offset {r._base + pos + 1}")
                        key = int.from_bytes(buf[pos + 1 : pos + 5], "little")
                    if key < len(dense) and not memo.dead:
                        c = dense[key]
                        v = MEMO_OBJECT if c == _C_OBJECT else vcache.get(c)
                        if v is not None:
                            stack.append(v)
                            continue
                    stack.append(self._memo_get(key))
                    continue
                if code == 0x4A and pos + 5 <= len(buf):  # BININT
                    r._pos = pos + 5
                    stack.append(int.from_bytes(buf[pos + 1 : pos + 5], "little", signed=True))
                    continue
                if code == 0x28:  # MARK
                    r._pos = pos + 1
                    _op_mark(self)
                    continue
                if code == 0x2E:  # STOP
                    r._pos = pos + 1
                    res.pickles += 1
                    return stack[-1] if stack else None
                r._pos = pos + 1
                h = handlers.get(code)
                if h is None:
                    raise WalkError(f"invalid opcode 0x{code:02x}")
                h(self)
                if len(self.stack) > MAX_STACK:
                    self._drop_stack()
        finally:
            res.opcodes += ops

    _op_offset = 0


_ATTRIBUTE = re.compile(r"^(?!__)[A-Za-z_][A-Za-z0-9_]{0,99}$")
"""An attribute a resolver may reach: an identifier, not a dunder (`__subclasses__`, `__globals__`… stay unresolved)."""
_MODULE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,99}(\.[A-Za-z_][A-Za-z0-9_]{0,99}){0,20}$")


def _resolve_getattr(args: Any) -> tuple[str, str] | None:
    """`getattr(module.Name, "attr")`: a resolved global and a plain attribute name."""
    if not (isinstance(args, tuple) and len(args) == 2):
        return None
    target, attr = args
    if isinstance(target, Glob) and target.resolved and isinstance(attr, str) and _ATTRIBUTE.match(attr):
        return target.module, f"{target.name}.{attr}"
    return None


def _resolve_import(args: Any) -> tuple[str, str] | None:
    """`_ufunc_reconstruct("module", "name")` imports `module` and returns its attribute `name`."""
    if not (isinstance(args, tuple) and len(args) == 2):
        return None
    module, name = args
    if isinstance(module, str) and isinstance(name, str) and _MODULE.match(module) and _ATTRIBUTE.match(name):
        return module, name
    return None


_RESOLVERS: dict[str, Callable[[Any], tuple[str, str] | None]] = {
    "builtins.getattr": _resolve_getattr,
    "__builtin__.getattr": _resolve_getattr,
    "numpy.core._ufunc_reconstruct": _resolve_import,
    "numpy._core._ufunc_reconstruct": _resolve_import,
}
"""Callables whose result is another global, named by their constant arguments."""


def _resolver(v: Any) -> str | None:
    if isinstance(v, Glob) and v.resolved:
        full = v.full
        if full in _RESOLVERS:
            return full
    return None


def _bump(counts: dict[str, int], key: str) -> None:
    counts[key] = counts.get(key, 0) + 1


def _root(v: Any) -> Any:
    for _ in range(64):
        if not isinstance(v, Obj):
            return v
        v = v.origin
    return v


def _describe(v: Any) -> str:
    if isinstance(v, Glob):
        return v.full
    if isinstance(v, Obj):
        return f"result of {_describe(v.origin)}(...)"
    if isinstance(v, str):
        return repr(v[:80])
    return repr(v)[:80]


def _plausible_continuation(r: ChunkedReader) -> bool:
    """Is what follows a STOP another pickle? (protocol 2+ header, or a protocol 0/1 stream that
    walks cleanly over its first bytes)."""
    head = r.peek(8192)
    if len(head) >= 2 and head[0] == 0x80 and 2 <= head[1] <= 5:
        return True
    return probe_pickle(head, min_opcodes=3)


def probe_pickle(head: bytes, *, min_opcodes: int = 2) -> bool:
    """Cheap sniff: does `head` start like a pickle stream? (used for content detection)."""
    if not head:
        return False
    if head[0] == 0x80:
        return len(head) >= 2 and head[1] <= 5
    if head[0] not in _STARTERS:
        return False
    return walks_as_pickle(head, min_opcodes=min_opcodes)


def walks_as_pickle(data: bytes, *, min_opcodes: int) -> bool:
    """Does `data` walk as one pickle (or as more than `min_opcodes` opcodes of one, when cut short)?"""
    import io

    w = PickleWalker(ChunkedReader(io.BytesIO(data), limit=len(data)), probe=True)
    try:
        w.walk_one()
        return True
    except Truncated:
        return w.res.opcodes > min_opcodes
    except (WalkError, ValueError, struct.error, OverflowError):
        return False


# Opcodes a protocol 0/1 pickle plausibly starts with.
_STARTERS = frozenset(b"(cilds]})NIJKLMFGSTUVX")


# -- opcode handlers ---------------------------------------------------------------------------
# Each takes the walker; arguments are read from w.r. Kept as module-level functions in one table.


def _op_mark(w: PickleWalker) -> None:
    if len(w.metastack) >= MAX_STACK:
        w._drop_stack()
    w.metastack.append(w.stack)
    w.stack = []


def _op_pop(w: PickleWalker) -> None:
    if w.stack:
        w.stack.pop()
    else:
        w._pop_mark()


def _op_pop_mark(w: PickleWalker) -> None:
    w._pop_mark()


def _op_dup(w: PickleWalker) -> None:
    v = w._pop()
    w._push(v)
    w._push(v)


def _number_line(w: PickleWalker, kind: str) -> None:
    line = w._line().strip()
    if w.probe:
        try:
            if kind == "float":
                float(line)
            else:
                int(line.rstrip(b"L") or b"x", 0 if line[:2] in (b"0x", b"0X") else 10)
        except ValueError as exc:
            raise WalkError(f"bad {kind} literal") from exc
    if kind == "int" and line in (b"00", b"01"):
        w._push(line == b"01")
        return
    try:
        w._push(int(line.rstrip(b"L")) if kind != "float" and len(line) < 40 else OPAQUE)
    except ValueError:
        w._odd(f"bad {kind} literal")
        w._push(OPAQUE)


def _op_int(w: PickleWalker) -> None:
    _number_line(w, "int")


def _op_long(w: PickleWalker) -> None:
    _number_line(w, "long")


def _op_float(w: PickleWalker) -> None:
    _number_line(w, "float")


def _op_binint(w: PickleWalker) -> None:
    w._push(_i32(w.r.read(4)))


def _op_binint1(w: PickleWalker) -> None:
    w._push(w.r.read_byte())


def _op_binint2(w: PickleWalker) -> None:
    w._push(_u16(w.r.read(2)))


def _op_long1(w: PickleWalker) -> None:
    n = w.r.read_byte()
    w._push(int.from_bytes(w.r.read(n), "little", signed=True))


def _op_long4(w: PickleWalker) -> None:
    n = _i32(w.r.read(4))
    if n < 0:
        raise WalkError("negative LONG4 length")
    raw = w._blob(n)
    w._push(int.from_bytes(raw, "little", signed=True) if isinstance(raw, bytes) and n <= 64 else OPAQUE)


def _op_binfloat(w: PickleWalker) -> None:
    w.r.skip(8)
    w._push(OPAQUE)


def _op_none(w: PickleWalker) -> None:
    w._push(None)


def _op_true(w: PickleWalker) -> None:
    w._push(True)


def _op_false(w: PickleWalker) -> None:
    w._push(False)


def _quoted(raw: bytes) -> str:
    raw = raw.rstrip()
    if len(raw) >= 2 and raw[:1] in (b"'", b'"') and raw[-1:] == raw[:1]:
        raw = raw[1:-1]
        try:
            return raw.decode("unicode_escape", errors="backslashreplace")
        except UnicodeDecodeError:
            pass
    elif not raw or raw[:1] not in (b"'", b'"'):
        raise WalkError("STRING argument is not quoted")
    return raw.decode("latin-1")


def _op_string(w: PickleWalker) -> None:
    line = w._line()
    w._push(_quoted(line))


def _op_binstring(w: PickleWalker) -> None:
    n = _i32(w.r.read(4))
    if n < 0:
        raise WalkError("negative BINSTRING length")
    w._push(w._text(n, "latin-1"))


def _op_short_binstring(w: PickleWalker) -> None:
    w._push(w._text(w.r.read_byte(), "latin-1"))


def _op_unicode(w: PickleWalker) -> None:
    line = w._line()
    w._push(line.decode("raw-unicode-escape", errors="backslashreplace") if len(line) <= MAX_KEPT_ARG else SKIPPED)


def _op_binunicode(w: PickleWalker) -> None:
    w._push(w._text(_u32(w.r.read(4)), "utf-8"))


def _op_short_binunicode(w: PickleWalker) -> None:
    w._push(w._text(w.r.read_byte(), "utf-8"))


def _op_binunicode8(w: PickleWalker) -> None:
    w._push(w._text(_u64(w.r.read(8)), "utf-8"))


def _op_binbytes(w: PickleWalker) -> None:
    w._push(w._blob(_u32(w.r.read(4))))


def _op_short_binbytes(w: PickleWalker) -> None:
    w._push(w._blob(w.r.read_byte()))


def _op_binbytes8(w: PickleWalker) -> None:
    w._push(w._blob(_u64(w.r.read(8))))


def _op_bytearray8(w: PickleWalker) -> None:
    w._blob(_u64(w.r.read(8)))
    w._push(OPAQUE)


def _op_next_buffer(w: PickleWalker) -> None:
    w._push(_Opaque("out-of-band buffer"))


def _op_readonly_buffer(w: PickleWalker) -> None:
    w._push(w._pop())


def _op_empty_tuple(w: PickleWalker) -> None:
    w._push(())


def _op_tuple(w: PickleWalker) -> None:
    items = w._pop_mark()
    w._push(tuple(items[:MAX_KEPT_ITEMS]))


def _op_tuple1(w: PickleWalker) -> None:
    w._push((w._pop(),))


def _op_tuple2(w: PickleWalker) -> None:
    b = w._pop()
    a = w._pop()
    w._push((a, b))


def _op_tuple3(w: PickleWalker) -> None:
    c = w._pop()
    b = w._pop()
    a = w._pop()
    w._push((a, b, c))


def _op_empty_list(w: PickleWalker) -> None:
    w._push(ListV())


def _op_list(w: PickleWalker) -> None:
    lst = ListV()
    lst.add(w._pop_mark())
    w._push(lst)


def _op_append(w: PickleWalker) -> None:
    v = w._pop()
    target = w.stack[-1] if w.stack else None
    if isinstance(target, ListV):
        target.add([v])
    elif isinstance(target, Glob):
        w._anomaly("computed_call", f"APPEND calls {_describe(target)}.append/extend")


def _op_appends(w: PickleWalker) -> None:
    items = w._pop_mark()
    target = w.stack[-1] if w.stack else None
    if isinstance(target, ListV):
        target.add(items)
    elif isinstance(target, Glob):
        w._anomaly("computed_call", f"APPENDS calls {_describe(target)}.extend/append")


def _op_empty_dict(w: PickleWalker) -> None:
    w._push(DictV())


def _op_dict(w: PickleWalker) -> None:
    items = w._pop_mark()
    d = DictV()
    for i in range(0, len(items) - 1, 2):
        d.set(items[i], items[i + 1])
    w._push(d)


def _setitems_on(w: PickleWalker, pairs: list[Any]) -> None:
    target = w.stack[-1] if w.stack else None
    if isinstance(target, DictV):
        for i in range(0, len(pairs) - 1, 2):
            target.set(pairs[i], pairs[i + 1])
    elif isinstance(target, Glob):
        w._anomaly("computed_call", f"SETITEM calls {_describe(target)}.__setitem__")


def _op_setitem(w: PickleWalker) -> None:
    v = w._pop()
    k = w._pop()
    _setitems_on(w, [k, v])


def _op_setitems(w: PickleWalker) -> None:
    _setitems_on(w, w._pop_mark())


def _op_empty_set(w: PickleWalker) -> None:
    w._push(OPAQUE)


def _op_additems(w: PickleWalker) -> None:
    w._pop_mark()


def _op_frozenset(w: PickleWalker) -> None:
    w._pop_mark()
    w._push(OPAQUE)


def _op_get(w: PickleWalker) -> None:
    line = w._line()
    try:
        key = int(line)
    except ValueError as exc:
        raise WalkError("GET argument is not a number") from exc
    w._push(w._memo_get(key))


def _op_binget(w: PickleWalker) -> None:
    w._push(w._memo_get(w.r.read_byte()))


def _op_long_binget(w: PickleWalker) -> None:
    w._push(w._memo_get(_u32(w.r.read(4))))


def _top(w: PickleWalker) -> Any:
    if not w.stack:
        if w.probe:
            raise WalkError("memoize with empty stack")
        w._odd("memo store with an empty stack")
        return OPAQUE
    return w.stack[-1]


def _op_put(w: PickleWalker) -> None:
    line = w._line()
    try:
        key = int(line)
    except ValueError as exc:
        raise WalkError("PUT argument is not a number") from exc
    w._memo_put(key, _top(w))


def _op_binput(w: PickleWalker) -> None:
    w._memo_put(w.r.read_byte(), _top(w))


def _op_long_binput(w: PickleWalker) -> None:
    w._memo_put(_u32(w.r.read(4)), _top(w))


def _op_memoize(w: PickleWalker) -> None:
    w.memo.memoize(_top(w))


def _op_global(w: PickleWalker) -> None:
    off = w._op_offset
    module = w._decode_line(w._line())
    name = w._decode_line(w._line())
    w._push(w._global(module, name, off, "GLOBAL"))


def _op_stack_global(w: PickleWalker) -> None:
    name = w._pop()
    module = w._pop()
    if isinstance(module, str) and isinstance(name, str):
        w._push(w._global(module, name, w._op_offset, "STACK_GLOBAL"))
        return
    if w.probe:
        raise WalkError("unresolved STACK_GLOBAL")
    detail = f"STACK_GLOBAL with module {_describe(module)} and name {_describe(name)}"
    if module is LOST or name is LOST:
        # Tracking ended at a budget: this import may be anything, so it counts as dangerous.
        w._anomaly("unresolved_import", f"{detail} (tracking budget exceeded: {'; '.join(w.res.budgets)})")
    elif module is MEMO_TEXT or name is MEMO_TEXT:
        # A memoised string the walk does not keep (over 255 bytes, or not name-like): an import of a
        # string it cannot read, e.g. a long attribute chain; it counts as dangerous.
        w._anomaly("unresolved_import", f"{detail} (a memoised string the scan does not keep)")
    else:
        w._anomaly("unresolved_global", detail)
    w._push(Glob(_describe(module), _describe(name), w._op_offset, resolved=False))


def _op_inst(w: PickleWalker) -> None:
    off = w._op_offset
    module = w._decode_line(w._line())
    name = w._decode_line(w._line())
    cls = w._global(module, name, off, "INST")
    args = w._pop_mark()
    w._push(Obj(cls, tuple(args[:MAX_KEPT_ITEMS])))


def _op_obj(w: PickleWalker) -> None:
    items = w._pop_mark()
    if not items:
        if w.probe:
            raise WalkError("OBJ without a class")
        w._odd("OBJ without a class")
        w._push(OPAQUE)
        return
    w._push(w._call(items[0], tuple(items[1:MAX_KEPT_ITEMS]), "OBJ"))


def _op_reduce(w: PickleWalker) -> None:
    args = w._pop()
    func = w._pop()
    w._push(w._call(func, args, "REDUCE"))


def _op_newobj(w: PickleWalker) -> None:
    args = w._pop()
    cls = w._pop()
    w._push(w._call(cls, args, "NEWOBJ"))


def _op_newobj_ex(w: PickleWalker) -> None:
    w._pop()  # kwargs
    args = w._pop()
    cls = w._pop()
    w._push(w._call(cls, args, "NEWOBJ_EX"))


def _op_build(w: PickleWalker) -> None:
    state = w._pop()
    obj = w.stack[-1] if w.stack else None
    if isinstance(obj, Glob):
        # BUILD on a class or module object sets attributes on it: it rewires what later
        # imports of that name return (the `sys.modules` override trick).
        w._anomaly("global_mutation", f"BUILD sets attributes on the global {obj.full}")
    elif obj is LOST:
        w._anomaly("global_mutation", "BUILD sets attributes on a value not tracked past a budget (maybe a global)")
    elif isinstance(obj, Obj):
        obj.state = state
        origin = obj.origin
        if isinstance(origin, Glob) and w.build_hooks and origin.full in w.build_hooks:
            w.build_hooks[origin.full](obj, w.r, w)
    elif not w.stack:
        w._odd("BUILD with an empty stack")


def _op_persid(w: PickleWalker) -> None:
    w._line()
    w._push(PERSISTENT)


def _op_binpersid(w: PickleWalker) -> None:
    w._pop()
    w._push(PERSISTENT)


def _ext(w: PickleWalker, code: int) -> None:
    # copyreg's extension registry is empty in CPython; a code here names an unknown callable.
    if w.probe:
        raise WalkError("extension code")
    w._anomaly("extension", f"EXT opcode with extension code {code} (copyreg registry; target unknown)")
    w._push(Glob("<copyreg extension>", str(code), w._op_offset, resolved=False))


def _op_ext1(w: PickleWalker) -> None:
    _ext(w, w.r.read_byte())


def _op_ext2(w: PickleWalker) -> None:
    _ext(w, _u16(w.r.read(2)))


def _op_ext4(w: PickleWalker) -> None:
    _ext(w, _i32(w.r.read(4)))


def _op_proto(w: PickleWalker) -> None:
    proto = w.r.read_byte()
    if proto > 5:
        raise WalkError(f"unsupported pickle protocol {proto}")
    w.res.protocol = max(w.res.protocol, proto)


def _op_frame(w: PickleWalker) -> None:
    w.r.read(8)  # frame length: the frame's opcodes follow inline


_HANDLERS: dict[int, Callable[[PickleWalker], None]] = {
    ord("("): _op_mark,
    ord("0"): _op_pop,
    ord("1"): _op_pop_mark,
    ord("2"): _op_dup,
    ord("F"): _op_float,
    ord("I"): _op_int,
    ord("J"): _op_binint,
    ord("K"): _op_binint1,
    ord("L"): _op_long,
    ord("M"): _op_binint2,
    ord("N"): _op_none,
    ord("P"): _op_persid,
    ord("Q"): _op_binpersid,
    ord("R"): _op_reduce,
    ord("S"): _op_string,
    ord("T"): _op_binstring,
    ord("U"): _op_short_binstring,
    ord("V"): _op_unicode,
    ord("X"): _op_binunicode,
    ord("a"): _op_append,
    ord("b"): _op_build,
    ord("c"): _op_global,
    ord("d"): _op_dict,
    ord("}"): _op_empty_dict,
    ord("e"): _op_appends,
    ord("g"): _op_get,
    ord("h"): _op_binget,
    ord("i"): _op_inst,
    ord("j"): _op_long_binget,
    ord("l"): _op_list,
    ord("]"): _op_empty_list,
    ord("o"): _op_obj,
    ord("p"): _op_put,
    ord("q"): _op_binput,
    ord("r"): _op_long_binput,
    ord("s"): _op_setitem,
    ord("t"): _op_tuple,
    ord(")"): _op_empty_tuple,
    ord("u"): _op_setitems,
    ord("G"): _op_binfloat,
    0x80: _op_proto,
    0x81: _op_newobj,
    0x82: _op_ext1,
    0x83: _op_ext2,
    0x84: _op_ext4,
    0x85: _op_tuple1,
    0x86: _op_tuple2,
    0x87: _op_tuple3,
    0x88: _op_true,
    0x89: _op_false,
    0x8A: _op_long1,
    0x8B: _op_long4,
    ord("B"): _op_binbytes,
    ord("C"): _op_short_binbytes,
    0x8C: _op_short_binunicode,
    0x8D: _op_binunicode8,
    0x8E: _op_binbytes8,
    0x8F: _op_empty_set,
    0x90: _op_additems,
    0x91: _op_frozenset,
    0x92: _op_newobj_ex,
    0x93: _op_stack_global,
    0x94: _op_memoize,
    0x95: _op_frame,
    0x96: _op_bytearray8,
    0x97: _op_next_buffer,
    0x98: _op_readonly_buffer,
}


def walk_stream(reader: ChunkedReader, *, build_hooks: dict[str, BuildHook] | None = None) -> WalkResult:
    """Walk every pickle readable from `reader`."""
    w = PickleWalker(reader)
    if build_hooks:
        w.build_hooks = build_hooks
    return w.walk_all()
