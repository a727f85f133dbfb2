"""A safe YAML loader for every posture parser: plain values plus a line for every key and item.

    docs = load_documents(text, "k8s/deploy.yaml", settings.budgets)
    for doc in docs:
        doc.value                       # dict / list / scalar, as yaml.safe_load would give
        doc.line_of("spec.replicas")    # 1-based line of that key
        doc.lines_under("Resources.Bucket")  # {"Properties.BucketName": 12, …} re-rooted

Hostile input gets a `ParseError`/`BudgetExceeded` naming the file, never a hang or a crash:
- the document is built from the (libyaml, non-recursive) event stream, so nesting depth is
  checked before anything recurses (`budgets.max_depth`);
- anchors/aliases are kept as a shared graph and the size of its *expansion* is computed first,
  so the billion-laughs pattern fails in microseconds instead of after allocating it
  (`budgets.max_yaml_nodes` bounds both the graph and its expansion);
- text over `budgets.max_config_bytes` is refused.

Paths use the `PostureResource.lines` convention: dotted keys, `[i]` for sequence items.
Custom tags (CloudFormation `!Ref`, `!Sub`…) are handed to `tag_handler(tag, value)`; without a
handler the tag is ignored and the plain value kept. Timestamps, binary and sets stay strings so
every value is JSON-serialisable.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import yaml

from shareguard.core.errors import BudgetExceeded, ParseError
from shareguard.core.memo import per_scan
from shareguard.core.settings import Budgets

TagHandler = Callable[[str, Any], Any]

_Loader: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml when present: ~10x faster
_CORE_SCALARS = frozenset(
    {"tag:yaml.org,2002:int", "tag:yaml.org,2002:float", "tag:yaml.org,2002:bool", "tag:yaml.org,2002:null"}
)
_STR = "tag:yaml.org,2002:str"
_BOOL = "tag:yaml.org,2002:bool"
_NULL = "tag:yaml.org,2002:null"
_TRUE = frozenset({"yes", "true", "on", "y"})
_MERGE = "tag:yaml.org,2002:merge"


@dataclass(frozen=True)
class Located:
    """One YAML document: its plain value and the line of every key / sequence item."""

    value: Any
    line: int
    """Line where the document's content starts."""
    lines: dict[str, int] = field(default_factory=dict)
    index: int = 0
    """Position of the document in the stream (0-based)."""

    def line_of(self, path: str) -> int | None:
        """Line of `path`, else of its nearest known parent, else of the document."""
        while path:
            if path in self.lines:
                return self.lines[path]
            cut = max(path.rfind("."), path.rfind("["))
            path = path[:cut] if cut > 0 else ""
        return self.line

    def lines_under(self, prefix: str) -> dict[str, int]:
        """The line map of the sub-tree at `prefix`, with paths relative to it."""
        if not prefix:
            return dict(self.lines)
        out: dict[str, int] = {}
        n = len(prefix)
        for path, line in self.lines.items():
            if path.startswith(prefix) and len(path) > n and path[n] in ".[":
                out[path[n + 1 :] if path[n] == "." else path[n:]] = line
        return out

    def get(self, path: str, default: Any = None) -> Any:
        """The value at a dotted path (`a.b[0].c`), or `default`."""
        cur = self.value
        for part in _split(path):
            if isinstance(part, int):
                if not isinstance(cur, list) or part >= len(cur):
                    return default
                cur = cur[part]
            elif isinstance(cur, dict) and part in cur:
                cur = cur[part]
            else:
                return default
        return cur


def _split(path: str) -> list[str | int]:
    out: list[str | int] = []
    for chunk in path.split("."):
        if not chunk:
            continue
        name, _, rest = chunk.partition("[")
        if name:
            out.append(name)
        while rest:
            num, _, rest = rest.partition("]")
            if num.isdigit():
                out.append(int(num))
            rest = rest.lstrip("[")
    return out


# --- the node graph, built from events -----------------------------------------------------------


class _Node:
    __slots__ = ("anchor_open", "children", "kind", "line", "style", "tag", "value")

    def __init__(self, kind: str, line: int, tag: str | None) -> None:
        self.kind = kind  # "map", "seq", "scalar"
        self.line = line
        self.tag = tag
        self.children: list[_Node] = []  # map: k0, v0, k1, v1…
        self.value = ""
        self.style: Any = None
        self.anchor_open = False


def load_documents(
    text: str,
    origin: str,
    budgets: Budgets | None = None,
    *,
    tag_handler: TagHandler | None = None,
) -> list[Located]:
    """Every document of a YAML stream (empty documents are skipped)."""
    budgets = budgets or Budgets()
    if len(text) > budgets.max_config_bytes:
        raise BudgetExceeded(f"YAML text is over the {budgets.max_config_bytes}-byte budget", path=origin)
    roots = _compose(text, origin, budgets)
    out: list[Located] = []
    builder = _Builder(origin, budgets, tag_handler)
    for i, (root, aliased) in enumerate(roots):
        if root is None:
            continue
        if aliased:
            builder.check_expansion(root)
        lines: dict[str, int] = {}
        value = builder.build(root, "", lines, 0)
        if value is None:
            continue  # an empty document (`---` alone)
        out.append(Located(value=value, line=root.line, lines=lines, index=i))
    return out


def load_one(
    text: str, origin: str, budgets: Budgets | None = None, *, tag_handler: TagHandler | None = None
) -> Located:
    """A single-document file (CloudFormation, rule files); an empty file gives a `None` value."""
    docs = load_documents(text, origin, budgets, tag_handler=tag_handler)
    if len(docs) > 1:
        raise ParseError(f"expected one YAML document, found {len(docs)}", path=origin, line=docs[1].line)
    return docs[0] if docs else Located(value=None, line=1)


def _compose(text: str, origin: str, budgets: Budgets) -> list[tuple[_Node | None, bool]]:
    """Events → node graph, iteratively (no recursion, whatever the nesting).

    Returns each document's root and whether it used aliases (only then can its expansion
    exceed what the node count and stack depth already bounded).

    The budgets are shareguard's, whatever the YAML library does. libyaml scans all the openers of
    nested flow collections (`[[[[…`) before the first event comes out, and the libyaml of newer
    PyYAML releases (6.0.3+) stops at 1000 levels with its own error, before the depth budget has
    seen an event. So on a libyaml error the text before the failing position is replayed: a budget
    it exceeds is the error reported (a deep document gets the same clear `BudgetExceeded` with
    every PyYAML); otherwise libyaml's own error is."""
    try:
        return _compose_with(text, origin, budgets)
    except UnicodeEncodeError as exc:  # a lone surrogate: libyaml encodes the text to UTF-8 first
        line = text.count("\n", 0, exc.start) + 1
        raise ParseError("invalid YAML: text is not valid Unicode (a lone surrogate)", path=origin, line=line) from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
        problem = getattr(exc, "problem", None) or str(exc)
        error = ParseError(f"invalid YAML: {problem}", path=origin, line=mark.line + 1 if mark else None)
    cut = _offset(text, mark.line, mark.column) if mark else 0
    if cut > 0:
        try:
            _compose_with(text[:cut], origin, budgets)
        except BudgetExceeded as budget:
            raise budget from None
        except (yaml.YAMLError, ParseError):
            pass
    raise error


def _offset(text: str, line: int, column: int) -> int:
    """Character offset of 0-based (`line`, `column`) in `text` (0 when it lies beyond the text)."""
    start = 0
    for _ in range(line):
        start = text.find("\n", start) + 1
        if start == 0:
            return 0
    return min(start + column, len(text))


def _compose_with(text: str, origin: str, budgets: Budgets) -> list[tuple[_Node | None, bool]]:
    """`_compose` without the error translation: the parser's YAML errors propagate."""
    roots: list[tuple[_Node | None, bool]] = []
    anchors: dict[str, _Node] = {}
    stack: list[_Node] = []
    count = 0
    aliased = False
    max_nodes, max_depth = budgets.max_yaml_nodes, budgets.max_depth
    resolve_plain, implicit_first = _resolve_plain, _implicit_first_chars(_RESOLVER)
    scalar_ev, map_start, seq_start = yaml.ScalarEvent, yaml.MappingStartEvent, yaml.SequenceStartEvent
    map_end, seq_end, alias_ev = yaml.MappingEndEvent, yaml.SequenceEndEvent, yaml.AliasEvent
    loader = _Loader(text)
    try:
        ev: Any  # libyaml events: attributes differ per class, dispatched on below
        # loader.get_event() directly: yaml.parse() adds a check_event() call per event.
        for ev in iter(loader.get_event, None):
            cls = ev.__class__
            node: _Node
            if cls is scalar_ev:
                count += 1
                tag = ev.tag  # as _scalar_tag, inlined: one call less per scalar
                value = ev.value
                if tag and tag != "!":
                    pass
                elif not ev.implicit[0] or (value and value[0] not in implicit_first):
                    tag = _STR  # no implicit type starts with this character: a string, as the resolver says
                else:
                    tag = resolve_plain(value)
                node = _Node("scalar", ev.start_mark.line + 1, tag)
                node.value = value
                node.style = ev.style
                if ev.anchor:
                    anchors[ev.anchor] = node
            elif cls is map_start or cls is seq_start:
                count += 1
                node = _Node(
                    "map" if cls is map_start else "seq", ev.start_mark.line + 1, None if ev.implicit else ev.tag
                )
                if ev.anchor:
                    anchors[ev.anchor] = node
            elif cls is map_end or cls is seq_end:
                stack.pop().anchor_open = False
                continue
            elif cls is alias_ev:
                target = anchors.get(ev.anchor or "")
                if target is None:
                    raise ParseError(f"unknown alias *{ev.anchor}", path=origin, line=ev.start_mark.line + 1)
                if target.anchor_open:
                    raise ParseError(f"recursive alias *{ev.anchor}", path=origin, line=ev.start_mark.line + 1)
                node = target
                aliased = True
            elif cls is yaml.DocumentStartEvent:
                anchors = {}
                aliased = False
                roots.append((None, False))
                continue
            elif cls is yaml.DocumentEndEvent:
                if roots:
                    roots[-1] = (roots[-1][0], aliased)
                continue
            elif cls is yaml.StreamEndEvent:
                break
            else:
                continue
            if count > max_nodes:
                raise BudgetExceeded(f"YAML has more than {max_nodes} nodes", path=origin)
            if stack:
                stack[-1].children.append(node)
            elif roots:
                roots[-1] = (node, aliased)
            if cls is map_start or cls is seq_start:
                node.anchor_open = True
                stack.append(node)
                if len(stack) > max_depth:
                    raise BudgetExceeded(f"YAML nesting deeper than {max_depth} levels", path=origin, line=node.line)
    finally:
        loader.dispose()
    return roots


def _scalar_tag(tag: str | None, value: str, implicit: tuple[bool, bool]) -> str:
    if tag and tag != "!":
        return tag
    if implicit[0]:
        return _resolve_plain(value)
    return _STR


@per_scan(maxsize=65536)  # the scan's: scalars hold secrets
def _resolve_plain(value: str) -> str:
    """YAML 1.1 implicit type of a plain scalar (cached: keys and values repeat a lot)."""
    return str(_RESOLVER.resolve(yaml.ScalarNode, value, (True, False)))  # type: ignore[no-untyped-call]


class _ResolverOnly(yaml.resolver.Resolver):
    """Only its implicit-type resolution is used (YAML 1.1 core types, as yaml.safe_load)."""


_RESOLVER = _ResolverOnly()


def _implicit_first_chars(resolver: yaml.resolver.BaseResolver) -> frozenset[str]:
    """The first characters of the plain scalars an implicit type may match. The resolver looks up its
    implicit types by a scalar's first character; a plain scalar starting with any other character (most
    keys and values: `name`, `image`, `securityContext`) is a string without asking it. Resolvers that
    apply whatever the first character (keyed by None) or by path would defeat that: then every character
    counts as a possible start (the shortcut is off)."""
    table = resolver.yaml_implicit_resolvers
    if None in table or resolver.yaml_path_resolvers:
        return _EVERY_CHAR
    return frozenset(k for k in table if k)


class _EveryChar(frozenset[str]):
    def __contains__(self, item: object) -> bool:
        return True


_EVERY_CHAR = _EveryChar()


class _Builder:
    def __init__(self, origin: str, budgets: Budgets, tag_handler: TagHandler | None) -> None:
        self.origin = origin
        self.budgets = budgets
        self.tag_handler = tag_handler
        self.constructor = yaml.constructor.SafeConstructor()

    def check_expansion(self, root: _Node) -> None:
        """Refuse a document whose alias expansion would exceed the node budget or depth."""
        sizes: dict[int, tuple[int, int]] = {}
        limit = self.budgets.max_yaml_nodes
        # Post-order over the graph with an explicit stack; each distinct node is sized once.
        todo: list[tuple[_Node, bool]] = [(root, False)]
        while todo:
            node, ready = todo.pop()
            if id(node) in sizes:
                continue
            if not ready:
                todo.append((node, True))
                todo.extend((c, False) for c in node.children if id(c) not in sizes)
                continue
            size, depth = 1, 0
            for c in node.children:
                cs, cd = sizes[id(c)]
                size += cs
                depth = max(depth, cd)
            if size > limit:
                raise BudgetExceeded(
                    f"YAML aliases expand to more than {limit} nodes (an alias bomb?)", path=self.origin, line=node.line
                )
            if depth + 1 > self.budgets.max_depth:
                raise BudgetExceeded(
                    f"YAML aliases nest deeper than {self.budgets.max_depth} levels", path=self.origin, line=node.line
                )
            sizes[id(node)] = (size, depth + 1)

    def build(self, node: _Node, path: str, lines: dict[str, int], depth: int) -> Any:
        # Depth and size were checked by check_expansion, so this recursion is bounded.
        # Plain strings (most keys and leaves) are taken as they are, without a call per node.
        if node.kind == "scalar":
            value = self._scalar(node)
        elif node.kind == "seq":
            value = []
            for i, item in enumerate(node.children):
                sub = f"{path}[{i}]"
                lines.setdefault(sub, item.line)
                if item.kind == "scalar" and item.tag == _STR:
                    value.append(item.value)
                else:
                    value.append(self.build(item, sub, lines, depth + 1))
        else:
            value = {}
            ch = node.children
            for i in range(0, len(ch) - 1, 2):
                knode, vnode = ch[i], ch[i + 1]
                if knode.kind == "scalar":
                    ktag = knode.tag
                    if ktag == _STR:
                        key = knode.value
                    elif ktag == _MERGE:
                        self._merge(value, vnode, path, lines, depth)
                        continue
                    else:
                        key = self._key(knode)
                else:
                    key = self._key(knode)
                sub = f"{path}.{key}" if path else key
                lines[sub] = knode.line
                if vnode.kind == "scalar" and vnode.tag == _STR:
                    value[key] = vnode.value
                else:
                    value[key] = self.build(vnode, sub, lines, depth + 1)
        custom = node.kind != "scalar" and node.tag and not node.tag.startswith("tag:yaml.org,2002:")
        if custom and self.tag_handler is not None:
            return self.tag_handler(str(node.tag), value)
        return value

    def _merge(self, target: dict[str, Any], vnode: _Node, path: str, lines: dict[str, int], depth: int) -> None:
        sources = vnode.children if vnode.kind == "seq" else [vnode]
        for src in sources:
            merged = self.build(src, path, {}, depth + 1)
            if isinstance(merged, dict):
                for k, v in merged.items():
                    target.setdefault(k, v)  # explicit keys win over merged ones

    def _key(self, node: _Node) -> str:
        if node.kind != "scalar":
            return f"<{node.kind}@{node.line}>"  # complex keys never name a config field
        v = self._scalar(node)
        if isinstance(v, bool):
            return "true" if v else "false"
        return "" if v is None else str(v)

    def _scalar(self, node: _Node) -> Any:
        tag = node.tag or _STR
        if tag == _BOOL:
            return node.value.lower() in _TRUE  # YAML 1.1 booleans, without the constructor's overhead
        if tag == _NULL:
            return None
        if tag in _CORE_SCALARS:
            try:
                return self.constructor.construct_object(yaml.ScalarNode(tag, node.value))
            except (yaml.YAMLError, ValueError):
                return node.value  # e.g. `!!int abc`: keep the text
        if not tag.startswith("tag:yaml.org,2002:") and self.tag_handler is not None:
            return self.tag_handler(tag, node.value)
        return node.value
