"""Imports run one way: `cli` → `scan` (the Python API) → capabilities → `core`, with no cycles.

Every module under `src/shareguard` is parsed with `ast` (nothing is imported), and every `import` /
`from … import` statement anywhere in it counts: module level, inside functions (the lazy imports that keep
start-up short) and under `if TYPE_CHECKING:`. Type-only imports are counted too, with no exemption: they
couple the modules just the same for a reader and for mypy, and no module needs one to break a cycle.
Not counted: `importlib.import_module("…")` with a computed name (the plugin loader reads module names
from `shareguard.plugins`; that is the point of plugins) and the implicit import of a package's
`__init__` when one of its submodules is imported (a package re-exporting its own submodules is no cycle).
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from functools import cache
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[1] / "src"
ROOT_PACKAGE = "shareguard"

CORE = "core"
CLI = "cli"
API = "api"
CAPABILITY = "capability"
TOP = {"shareguard.scan": API, "shareguard.plugins": API}
"""Above the capabilities, below the CLI: the documented Python API and the list of built-in plugins."""
RANK = {CORE: 0, CAPABILITY: 1, API: 2, CLI: 3}

REPORT_MAY_IMPORT = ("shareguard.core", "shareguard.catalog", "shareguard.report")
"""Reports read findings, facts and the catalog; they never import an analysis capability."""

CORE_EXCEPTIONS = {("shareguard.core.registry", "shareguard.plugins")}
"""The one known exception, kept visible here: the registry reads the built-in plugin list, a tuple of
module names that imports nothing (checked below). To remove: let callers pass that list in."""


def _module_name(path: Path) -> tuple[str, bool]:
    parts = list(path.relative_to(SRC).with_suffix("").parts)
    is_package = parts[-1] == "__init__"
    if is_package:
        parts = parts[:-1]
    return ".".join(parts), is_package


@cache
def modules() -> dict[str, tuple[Path, bool]]:
    found = {}
    for path in sorted((SRC / ROOT_PACKAGE).rglob("*.py")):
        name, is_package = _module_name(path)
        found[name] = (path, is_package)
    return found


def _targets(node: ast.Import | ast.ImportFrom, importer: str, is_package: bool) -> Iterator[str]:
    """The shareguard modules an import statement names (`from pkg import sub` names `pkg.sub`)."""
    known = modules()
    if isinstance(node, ast.Import):
        names = [alias.name for alias in node.names]
    else:
        if node.level:
            base = importer.split(".") if is_package else importer.split(".")[:-1]
            base = base[: len(base) - (node.level - 1)]
            module = ".".join([*base, node.module] if node.module else base)
        else:
            module = node.module or ""
        names = [f"{module}.{a.name}" if f"{module}.{a.name}" in known else module for a in node.names]
    for name in names:
        if name != ROOT_PACKAGE and not name.startswith(ROOT_PACKAGE + "."):
            continue
        while name not in known and "." in name:  # `import shareguard.x.attr` → the module `shareguard.x`
            name = name.rsplit(".", 1)[0]
        yield name


def _edges(source: str, name: str, is_package: bool) -> dict[str, int]:
    """{imported module: line of its first import} for every import statement, at any depth."""
    edges: dict[str, int] = {}
    for node in ast.walk(ast.parse(source, name)):
        if isinstance(node, ast.Import | ast.ImportFrom):
            for target in _targets(node, name, is_package):
                if target != name:
                    edges.setdefault(target, node.lineno)
    return edges


@cache
def imports() -> dict[str, dict[str, int]]:
    """importer → {imported module: line of the first import of it}."""
    return {
        name: _edges(path.read_text(encoding="utf-8"), name, is_package)
        for name, (path, is_package) in modules().items()
    }


def layer(module: str) -> str | None:
    """The layer of a module; None for the root package (its `__init__` holds only the version)."""
    if module == ROOT_PACKAGE:
        return None
    if module in TOP:
        return TOP[module]
    first = module.split(".")[1]
    return {"core": CORE, "cli": CLI}.get(first, CAPABILITY)


def _where(importer: str, target: str) -> str:
    path = modules()[importer][0].relative_to(SRC.parent)
    return f"{path}:{imports()[importer][target]}: {importer} imports {target}"


def test_every_module_is_parsed() -> None:
    assert "shareguard.core.finding" in modules() and "shareguard.cli.main" in modules()
    assert len(modules()) > 100
    # The parser sees lazy and TYPE_CHECKING imports (both kinds exist in the code base).
    assert "shareguard.posture.parsers.yaml_safe" in imports()["shareguard.scan"]  # inside a function


def test_lazy_type_checking_and_relative_imports_count() -> None:
    source = (
        "from typing import TYPE_CHECKING\n"
        "if TYPE_CHECKING:\n    from shareguard.cli.common import OutputOptions\n"
        "def f():\n    import shareguard.vuln.purl\n"
        "from ..models import inspect\n"
        "from . import layer\n"
    )
    assert _edges(source, "shareguard.sources.image.x", False) == {
        "shareguard.cli.common": 3,
        "shareguard.vuln.purl": 5,
        "shareguard.sources": 6,  # `shareguard.sources.models` is no module: the package is what is named
        "shareguard.sources.image.layer": 7,
    }


def test_root_package_and_plugin_list_import_nothing() -> None:
    # Every layer may import `shareguard` (for `__version__`) and the registry reads `shareguard.plugins`:
    # both must stay leaves, or they would smuggle dependencies into the core.
    assert imports()[ROOT_PACKAGE] == {}
    assert imports()["shareguard.plugins"] == {}


def test_core_imports_only_core() -> None:
    bad = [
        _where(m, t)
        for m, targets in imports().items()
        if layer(m) == CORE
        for t in targets
        if layer(t) not in (CORE, None) and (m, t) not in CORE_EXCEPTIONS
    ]
    assert not bad, "the core imports a capability or the CLI:\n" + "\n".join(bad)


def test_core_exceptions_are_still_needed() -> None:
    stale = [f"{m} -> {t}" for m, t in CORE_EXCEPTIONS if t not in imports().get(m, {})]
    assert not stale, f"remove from CORE_EXCEPTIONS: {stale}"


def test_nothing_outside_the_cli_imports_the_cli() -> None:
    bad = [_where(m, t) for m, targets in imports().items() if layer(m) != CLI for t in targets if layer(t) == CLI]
    assert not bad, "a library module imports the command-line layer:\n" + "\n".join(bad)


def test_imports_only_run_downwards() -> None:
    # core (0) → capabilities (1) → shareguard.scan / plugins (2) → cli (3): nothing imports a higher layer.
    bad = []
    for m, targets in imports().items():
        lm = layer(m)
        if lm is None:
            continue
        for t in targets:
            lt = layer(t)
            if lt is not None and RANK[lt] > RANK[lm] and (m, t) not in CORE_EXCEPTIONS:
                bad.append(_where(m, t))
    assert not bad, "imports that run upwards:\n" + "\n".join(bad)


def test_reports_import_no_analysis_capability() -> None:
    bad = [
        _where(m, t)
        for m, targets in imports().items()
        if m.startswith("shareguard.report.") or m == "shareguard.report"
        for t in targets
        if t != ROOT_PACKAGE and not any(t == p or t.startswith(p + ".") for p in REPORT_MAY_IMPORT)
    ]
    assert not bad, "a reporter imports an analysis capability:\n" + "\n".join(bad)


def _cycles(graph: dict[str, dict[str, int]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    on_stack: set[str] = set()
    stack: list[str] = []
    out: list[list[str]] = []
    counter = 0
    for start in graph:
        if start in index:
            continue
        work: list[tuple[str, Iterator[str]]] = [(start, iter(graph[start]))]
        index[start] = low[start] = counter
        counter += 1
        stack.append(start)
        on_stack.add(start)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in graph:
                    continue
                if child not in index:
                    index[child] = low[child] = counter
                    counter += 1
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(graph[child])))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                if len(component) > 1:
                    out.append(sorted(component))
    return out


def test_cycle_finder_finds_a_cycle() -> None:
    graph = {"a": {"b": 1}, "b": {"c": 1}, "c": {"a": 1}, "d": {"a": 1}}
    assert _cycles(graph) == [["a", "b", "c"]]
    assert _cycles({"a": {"b": 1}, "b": {}}) == []


def test_no_import_cycles() -> None:
    graph = imports()
    cycles = _cycles(graph)
    lines = []
    for component in cycles:
        members = set(component)
        lines.append(" ↔ ".join(component))
        lines.extend("    " + _where(m, t) for m in component for t in graph[m] if t in members)
    assert not cycles, "import cycles:\n" + "\n".join(lines)


@pytest.mark.parametrize(
    ("importer", "imported"),
    [
        ("shareguard.core.project_config", "shareguard.posture.parsers.yaml_safe"),
        ("shareguard.scan", "shareguard.cli.common"),
        ("shareguard.posture.baseline", "shareguard.cli.common"),
        ("shareguard.report.sbom_inventory", "shareguard.vuln.purl"),
        ("shareguard.models.formats.archive", "shareguard.models.inspect"),
        ("shareguard.sources.image.libz", "shareguard.sources.image.decompress"),
    ],
)
def test_the_edges_issue_13_named_are_gone(importer: str, imported: str) -> None:
    assert imported not in imports()[importer]
