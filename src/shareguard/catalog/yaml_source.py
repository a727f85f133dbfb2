"""Strict YAML reading for catalog files: no aliases, no duplicate keys, line numbers for errors."""

from __future__ import annotations

from typing import Any

import yaml
from yaml.constructor import ConstructorError
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode
from yaml.scanner import ScannerError

MAX_DEPTH = 64
"""Deepest nesting (flow brackets or block indentation) a catalog file may use."""


class _StrictConstructor(yaml.constructor.SafeConstructor):
    """Rejects what a hand-written catalog never needs and an attacker might use.

    Aliases are refused (a "billion laughs" document expands aliases into exponential work), and a key given twice
    in one mapping is an error instead of PyYAML's silent last-one-wins.
    """

    def construct_object(self, node: Node, deep: bool = False) -> Any:
        # A node reached a second time can only come from an alias (`*name`).
        if node in self.constructed_objects or node in self.recursive_objects:
            raise ConstructorError(None, None, "YAML aliases are not allowed in catalog files", node.start_mark)
        return super().construct_object(node, deep=deep)

    def construct_mapping(self, node: MappingNode, deep: bool = False) -> dict[Any, Any]:
        seen: set[Any] = set()
        for key_node, _ in node.value:
            key = key_node.value if isinstance(key_node, ScalarNode) else None
            if key is not None and key in seen:
                raise ConstructorError(None, None, f"duplicate key {key!r}", key_node.start_mark)
            seen.add(key)
        return super().construct_mapping(node, deep=deep)


class StrictLoader(_StrictConstructor, yaml.SafeLoader):
    """Pure-Python parsing with a nesting cap, for untrusted catalogs.

    PyYAML's scanner is quadratic in flow nesting depth and its composer recursive, so a few thousand `[` would
    cost seconds or a RecursionError; a catalog needs a handful of levels.
    """

    def fetch_flow_collection_start(self, TokenClass: Any) -> None:
        if self.flow_level >= MAX_DEPTH:
            raise ScannerError(None, None, f"nesting deeper than {MAX_DEPTH} levels", self.get_mark())
        super().fetch_flow_collection_start(TokenClass)

    def add_indent(self, column: int) -> bool:
        if len(self.indents) >= MAX_DEPTH:
            raise ScannerError(None, None, f"nesting deeper than {MAX_DEPTH} levels", self.get_mark())
        return bool(super().add_indent(column))


# libyaml is several times faster, but its recursive composer overflows the C stack on hostile nesting
# (a segfault): use it only for the catalog bundled with shareguard.
_CLoader: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class TrustedLoader(_StrictConstructor, _CLoader):  # type: ignore[misc,valid-type]
    """libyaml parsing with the same strict construction, for the bundled catalog only."""


def yaml_error_line(exc: yaml.YAMLError) -> int | None:
    mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
    return mark.line + 1 if mark is not None else None


def yaml_error_text(exc: yaml.YAMLError) -> str:
    problem = getattr(exc, "problem", None)
    context = getattr(exc, "context", None)
    if problem:
        return f"{context} {problem}" if context and "found" in problem else str(problem)
    return str(exc).splitlines()[0] if str(exc) else type(exc).__name__


def load_yaml(text: str, *, trusted: bool = False) -> Any:
    """Parse one YAML document strictly (raises yaml.YAMLError, RecursionError)."""
    return yaml.load(text, Loader=TrustedLoader if trusted else StrictLoader)


def line_of(text: str, loc: tuple[Any, ...]) -> int | None:
    """The 1-based line of the node at `loc` (keys and list indexes), or of its deepest existing ancestor."""
    try:
        node: Node | None = yaml.compose(text, Loader=StrictLoader)
    except (yaml.YAMLError, RecursionError):
        return None
    if node is None:
        return None
    line = node.start_mark.line + 1
    for part in loc:
        child: Node | None = None
        if isinstance(node, MappingNode):
            for key_node, value_node in node.value:
                if isinstance(key_node, ScalarNode) and key_node.value == str(part):
                    child = value_node
                    break
        elif isinstance(node, SequenceNode) and isinstance(part, int) and 0 <= part < len(node.value):
            child = node.value[part]
        if child is None:
            break
        node = child
        line = node.start_mark.line + 1
    return line
