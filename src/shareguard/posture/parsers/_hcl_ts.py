"""HCL2 with tree-sitter-hcl (a C parser, ~20x faster than python-hcl2's pure-Python LALR, and it keeps
positions): the same document shape as `hcl2.loads` with quotes stripped, heredocs as strings and
non-literal expressions as `${…}` strings, plus a line map per top-level block.

`available()` is False when tree-sitter / tree-sitter-hcl are not installed; the Terraform parser then
falls back to python-hcl2.
"""

from __future__ import annotations

from functools import cache
from typing import Any

from shareguard.core.errors import BudgetExceeded, ParseError

BlockKey = tuple[str, ...]
BlockLines = dict[BlockKey, tuple[int, dict[str, int]]]

_MAX_DEPTH = 200
MAX_VALUES = 1_000_000
"""Values (expressions: list items, object members, attributes) one HCL file may hold. A 15 MB list of small
numbers is 7 million of them; each costs a tree-sitter node or four and then Python objects (~1 KiB together),
so the budget is enforced before anything is built: separators counted in the bytes before parsing, syntax
nodes counted after it, values counted while converting."""
_MAX_NODES = 8 * MAX_VALUES
_ESCAPES = {"n": "\n", "t": "\t", "r": "\r", '"': '"', "\\": "\\"}


@cache
def _parser() -> Any:
    import tree_sitter
    import tree_sitter_hcl

    return tree_sitter.Parser(tree_sitter.Language(tree_sitter_hcl.language()))


def available() -> bool:
    try:
        _parser()
    except Exception:  # ImportError, or a grammar/binding version mismatch
        return False
    return True


def loads(text: str, origin: str) -> tuple[dict[str, Any], BlockLines]:
    """Parse HCL text: (document, {(block type, *labels): (start line, {attribute path: line})})."""
    src = text.encode("utf-8", errors="replace")
    # Every tuple item and object member of HCL has a `,` or `=` (or `:`) beside it: counted in C, before parsing.
    separators = src.count(b",") + src.count(b"=")
    if separators > 2 * MAX_VALUES:
        raise BudgetExceeded(f"HCL holds more than {MAX_VALUES} values (a huge list?); not parsed", path=origin)
    tree = _parser().parse(src)
    root = tree.root_node
    if getattr(root, "descendant_count", 0) > _MAX_NODES:
        raise BudgetExceeded(f"HCL has more than {_MAX_NODES} syntax nodes; not converted", path=origin)
    if root.has_error:
        bad = _first_error(root)
        line = bad.start_point[0] + 1 if bad is not None else None
        raise ParseError("HCL syntax error", path=origin, line=line)
    conv = _Converter(src, origin)
    doc: dict[str, Any] = {}
    blocks: BlockLines = {}
    body = next((c for c in root.children if c.type == "body"), None)
    if body is not None:
        for child in body.children:
            if child.type == "attribute":
                key, value = conv.attribute(child, {}, "", 0)
                if key in doc:  # an attribute must not replace blocks (or another attribute) of its name
                    raise ParseError(f"`{key}` is defined more than once", path=origin, line=child.start_point[0] + 1)
                doc[key] = value
            elif child.type == "block":
                name, labels, start, inner = conv.block_head(child)
                lines: dict[str, int] = {}
                value = conv.body(inner, lines, "", 1)
                existing = doc.setdefault(name, [])
                if not isinstance(existing, list):
                    raise ParseError(
                        f"`{name}` is both an attribute and a block", path=origin, line=child.start_point[0] + 1
                    )
                blocks.setdefault((name, *labels), (start, lines))
                existing.append(_nest(labels, value))
    return doc, blocks


def _nest(labels: list[str], value: dict[str, Any]) -> Any:
    out: Any = value
    for label in reversed(labels):
        out = {label: out}
    return out


def _first_error(node: Any) -> Any:
    stack = [node]
    while stack:
        n = stack.pop()
        if n.type == "ERROR" or n.is_missing:
            return n
        stack.extend(reversed(n.children))
    return None


class _Converter:
    def __init__(self, src: bytes, origin: str) -> None:
        self.src = src
        self.origin = origin
        self.values = 0

    def text(self, node: Any) -> str:
        return self.src[node.start_byte : node.end_byte].decode("utf-8", errors="replace")

    def block_head(self, node: Any) -> tuple[str, list[str], int, Any]:
        name = ""
        labels: list[str] = []
        inner = None
        for c in node.children:
            if c.type == "identifier" and not name:
                name = self.text(c)
            elif c.type == "string_lit":
                labels.append(self._quoted(c))
            elif c.type == "identifier":
                labels.append(self.text(c))
            elif c.type == "body":
                inner = c
        return name, labels, node.start_point[0] + 1, inner

    def body(self, node: Any, lines: dict[str, int], prefix: str, depth: int) -> dict[str, Any]:
        out: dict[str, Any] = {}
        if node is None:
            return out
        if depth > _MAX_DEPTH:
            raise BudgetExceeded("HCL nested too deeply", path=self.origin)
        for child in node.children:
            if child.type == "attribute":
                key, value = self.attribute(child, lines, prefix, depth)
                if key in out:  # as at the top level: never replace blocks (or another attribute) of this name
                    raise ParseError(
                        f"`{key}` is defined more than once", path=self.origin, line=child.start_point[0] + 1
                    )
                out[key] = value
            elif child.type == "block":
                name, labels, start, inner = self.block_head(child)
                # `dynamic "x" { content {…} }` is addressed as `x`; `content` is transparent.
                if name == "dynamic" and labels:
                    path_name = labels[0]
                elif name == "content":
                    path_name = ""
                else:
                    path_name = name
                sub = f"{prefix}.{path_name}" if prefix and path_name else (path_name or prefix)
                if sub:
                    lines.setdefault(sub, start)
                value = self.body(inner, lines, sub, depth + 1)
                existing = out.setdefault(name, [])
                if not isinstance(existing, list):
                    raise ParseError(
                        f"`{name}` is both an attribute and a block", path=self.origin, line=child.start_point[0] + 1
                    )
                existing.append(_nest(labels, value))
        return out

    def attribute(self, node: Any, lines: dict[str, int], prefix: str, depth: int) -> tuple[str, Any]:
        key = ""
        expr = None
        for c in node.children:
            if c.type == "identifier" and not key:
                key = self.text(c)
            elif c.type == "expression":
                expr = c
        path = f"{prefix}.{key}" if prefix else key
        lines.setdefault(path, node.start_point[0] + 1)
        return key, self.expression(expr, lines, path, depth + 1) if expr is not None else None

    def expression(self, node: Any, lines: dict[str, int], path: str, depth: int) -> Any:
        if depth > _MAX_DEPTH:
            raise BudgetExceeded("HCL nested too deeply", path=self.origin)
        self.values += 1
        if self.values > 2 * MAX_VALUES:  # an expression and its single inner node count twice
            raise BudgetExceeded(f"HCL holds more than {MAX_VALUES} values", path=self.origin)
        children = node.children
        if node.type == "expression" and len(children) == 1:
            return self.expression(children[0], lines, path, depth + 1)
        t = node.type
        if t == "literal_value" and children:
            return self._literal(children[0])
        if t == "template_expr" and children:
            return self._template(children[0])
        if t == "collection_value" and children:
            coll = children[0]
            if coll.type == "tuple":
                items = [c for c in coll.children if c.type == "expression"]
                return [self.expression(c, lines, f"{path}[{i}]", depth + 1) for i, c in enumerate(items)]
            if coll.type == "object":
                return self._object(coll, lines, path, depth)
        if t == "function_call" and children and self.text(children[0]) == "jsonencode":
            args = next((c for c in children if c.type == "function_arguments"), None)
            exprs = [c for c in args.children if c.type == "expression"] if args is not None else []
            if len(exprs) == 1:
                value = self.expression(exprs[0], {}, path, depth + 1)
                if isinstance(value, dict | list):
                    return value  # the encoded document itself (e.g. an IAM policy)
        return "${" + self.text(node) + "}"

    def _object(self, node: Any, lines: dict[str, int], path: str, depth: int) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for elem in node.children:
            if elem.type != "object_elem":
                continue
            exprs = [c for c in elem.children if c.type == "expression"]
            if len(exprs) != 2:
                continue
            key_node = exprs[0]
            key_value = self.expression(key_node, {}, path, depth + 1)
            if isinstance(key_value, str) and key_value.startswith("${") and key_node.children:
                inner = key_node.children[0]
                # A bare identifier key (`{ Version = … }`) is the key itself, not a variable.
                key = self.text(inner) if inner.type == "variable_expr" and inner.child_count == 1 else key_value
            else:
                key = str(key_value)
            sub = f"{path}.{key}" if path else key
            lines.setdefault(sub, elem.start_point[0] + 1)
            out[key] = self.expression(exprs[1], lines, sub, depth + 1)
        return out

    def _literal(self, node: Any) -> Any:
        t = node.type
        if t == "numeric_lit":
            raw = self.text(node)
            try:
                return int(raw)
            except ValueError:
                try:
                    return float(raw)
                except ValueError:
                    return raw
        if t == "bool_lit":
            return self.text(node) == "true"
        if t == "null_lit":
            return None
        if t == "string_lit":
            return self._quoted(node)
        return self.text(node)

    def _quoted(self, node: Any) -> str:
        parts: list[str] = []
        for c in node.children:
            if c.type == "template_literal":
                parts.append(_unescape(self.text(c)))
            elif c.type in ("template_interpolation", "template_directive"):
                parts.append(self.text(c))
        return "".join(parts)

    def _template(self, node: Any) -> str:
        if node.type == "quoted_template":
            return self._quoted(node)
        if node.type == "heredoc_template":
            ids = [c for c in node.children if c.type == "heredoc_identifier"]
            if len(ids) >= 2:
                body = self.src[ids[0].end_byte : ids[-1].start_byte].decode("utf-8", errors="replace")
                body = body.split("\n", 1)[1] if "\n" in body else ""
                lines = body.split("\n")
                if lines and not lines[-1].strip():
                    lines = lines[:-1]
                if any(c.type == "heredoc_start" and "-" in self.text(c) for c in node.children):
                    indent = min((len(x) - len(x.lstrip()) for x in lines if x.strip()), default=0)
                    lines = [x[indent:] for x in lines]
                return "\n".join(lines) + ("\n" if lines else "")
        return self.text(node)


def _unescape(s: str) -> str:
    if "\\" not in s:
        return s
    out: list[str] = []
    i = 0
    while i < len(s):
        ch = s[i]
        if ch == "\\" and i + 1 < len(s) and s[i + 1] in _ESCAPES:
            out.append(_ESCAPES[s[i + 1]])
            i += 2
            continue
        out.append(ch)
        i += 1
    return "".join(out)
