"""AST checks over Python code for unsafe model loading (never executes or imports the code).

Import aliases are resolved (`import torch as t`, `from pickle import loads as l`), so a call is
matched by its fully qualified name.

Each rule judges one construct (a `torch.load` call, a YAML load, a hub download of a hub id…). A
rule is *evaluated* on a source only where that construct occurs and was judged: `scan_source`
returns those rule ids beside the hits. Code without the construct says nothing about the rule (a
`print("hello")` evaluates none), and neither does a construct the check cannot decide (a computed
`allow_pickle=` or `safe_mode=`), which is not flagged either.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from shareguard.core.severity import Severity

FORCE_VAR = "TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD"
TORCH_LOADS = frozenset({"torch.load", "torch.serialization.load"})
PICKLE_LOADS = frozenset(
    {
        "pickle.load",
        "pickle.loads",
        "pickle.Unpickler",
        "_pickle.load",
        "_pickle.loads",
        "cPickle.load",
        "cPickle.loads",
        "dill.load",
        "dill.loads",
        "cloudpickle.load",
        "cloudpickle.loads",
        "joblib.load",
        "sklearn.externals.joblib.load",
        "pandas.read_pickle",
        "shelve.open",
        "torch.serialization._load",
    }
)
YAML_UNSAFE = frozenset({"yaml.unsafe_load", "yaml.unsafe_load_all"})
YAML_FULL = frozenset({"yaml.full_load", "yaml.full_load_all"})
YAML_LOAD = frozenset({"yaml.load", "yaml.load_all"})
YAML_SAFE = frozenset({"yaml.safe_load", "yaml.safe_load_all"})
KERAS_MODULES = ("keras.", "tensorflow.", "tf_keras.")
REMOTE_CODE_LOADERS = ("from_pretrained", "load_dataset")
"""Loaders that take `trust_remote_code` (default off): a call without it is judged by MLCODE-006."""
SAFE_LOADERS = frozenset({"SafeLoader", "CSafeLoader", "BaseLoader", "CBaseLoader"})
HUB_DOWNLOADS = ("from_pretrained", "hf_hub_download", "snapshot_download", "hf_hub_url", "load_dataset")
NUMPY_LOADS = frozenset({"numpy.load"})
EVALS = frozenset({"eval", "exec", "builtins.eval", "builtins.exec"})
ENVIRON = "os.environ"
ENV_SETS = frozenset({"os.putenv", "os.environ.setdefault"})
ENV_UPDATE = "os.environ.update"
TRUST_REMOTE_CODE = "trust_remote_code"
LOAD_MODEL = "load_model"
_SHA = re.compile(r"^[0-9a-f]{40}$")
_HUB_ID = re.compile(r"^[A-Za-z0-9][\w.-]*/[\w.-]+$")
FALSEY = frozenset({"", "0", "false", "no", "n", "off"})


@dataclass(frozen=True)
class CodeHit:
    rule_id: str
    line: int
    column: int
    evidence: str
    title: str | None = None
    severity: Severity | None = None


class _Aliases(ast.NodeVisitor):
    def __init__(self) -> None:
        self.names: dict[str, str] = {}

    def visit_Import(self, node: ast.Import) -> None:
        for a in node.names:
            if a.asname:
                self.names[a.asname] = a.name
            else:
                top = a.name.split(".", 1)[0]
                self.names.setdefault(top, top)

    def visit_ImportFrom(self, node: ast.ImportFrom) -> None:
        if node.level or not node.module:
            return
        for a in node.names:
            if a.name != "*":
                self.names[a.asname or a.name] = f"{node.module}.{a.name}"


def qualname(node: ast.AST, aliases: dict[str, str]) -> str | None:
    parts: list[str] = []
    cur = node
    while isinstance(cur, ast.Attribute):
        parts.append(cur.attr)
        cur = cur.value
    if not isinstance(cur, ast.Name):
        return None
    base = aliases.get(cur.id, cur.id)
    return ".".join([base, *reversed(parts)])


def _kw(call: ast.Call, name: str) -> ast.expr | None:
    for k in call.keywords:
        if k.arg == name:
            return k.value
    return None


def _const(node: ast.expr | None) -> object:
    if isinstance(node, ast.Constant):
        return node.value
    return _Missing


class _Missing:
    pass


def _src(node: ast.AST, source: str) -> str:
    text = _segment(node, source)
    text = " ".join(text.split())
    return text[:200]


def _segment(node: ast.AST, source: str) -> str:
    """`ast.get_source_segment`, without re-splitting the whole source in Python at every call (that
    cost ~0.5 ms per call on a 1 KB file: most of `check_source`'s time). Sources with a lone CR, where
    line numbering differs from `str.split("\\n")`, take the library's way."""
    lineno, end = getattr(node, "lineno", None), getattr(node, "end_lineno", None)
    col, end_col = getattr(node, "col_offset", None), getattr(node, "end_col_offset", None)
    if lineno is None or end is None or col is None or end_col is None or "\r" in source:
        return ast.get_source_segment(source, node) or ""
    lines = source.split("\n", end)[lineno - 1 : end]
    if len(lines) != end - lineno + 1:
        return ""
    if lineno == end:
        return lines[0].encode()[col:end_col].decode(errors="replace")
    first = lines[0].encode()[col:].decode(errors="replace")
    last = lines[-1].encode()[:end_col].decode(errors="replace")
    return "\n".join([first, *lines[1:-1], last])


@dataclass(frozen=True)
class CodeScan:
    hits: list[CodeHit]
    evaluated: frozenset[str]
    """Rules whose construct occurs in the code and was judged (failing or not)."""


def check_source(source: str, filename: str = "<code>") -> list[CodeHit]:
    """Parse and check; raises SyntaxError/ValueError for code that does not parse."""
    return scan_source(source, filename).hits


def _token(qualified: str) -> str:
    """The part of a qualified name a prefilter looks for: its first part of 4+ characters (the module,
    `torch` of `torch.load`), else its last (`putenv` of `os.putenv`)."""
    parts = qualified.split(".")
    return next((p for p in parts if len(p) >= 4), parts[-1])


def _prefilter_tokens() -> tuple[str, ...]:
    """Substrings at least one of which any construct the checks judge puts in the source text.

    A call is matched by the qualified name its callee resolves to (`qualname`), and every part of that
    name is an identifier written in the source: an attribute of the call (`t.load`), the name called, or
    the import that bound an alias (`import torch as t`, `from pickle import loads as l`). So each name
    of the tables contributes any one of its parts; keyword and short-name rules contribute the name
    itself (`trust_remote_code=`, `from_pretrained(`, a callee ending in `load_model`)."""
    qualified = (
        *TORCH_LOADS, *PICKLE_LOADS, *YAML_UNSAFE, *YAML_FULL, *YAML_LOAD, *YAML_SAFE, *NUMPY_LOADS, *EVALS,
        *ENV_SETS, ENV_UPDATE, ENVIRON,
    )  # fmt: skip
    tokens = {_token(n) for n in qualified} | {TRUST_REMOTE_CODE, LOAD_MODEL, *REMOTE_CODE_LOADERS, *HUB_DOWNLOADS}
    # a token containing another is implied by it
    return tuple(sorted(t for t in tokens if not any(o != t and o in t for o in tokens)))


PREFILTER_TOKENS = _prefilter_tokens()


def may_judge(source: str) -> bool:
    """False only for a source in which no check can judge anything (no `PREFILTER_TOKENS`): its syntax
    tree is not walked. Identifiers are NFKC-normalised by the parser (`ｔｏｒｃｈ` is `torch`), so a source with
    any non-ASCII character is always parsed."""
    return not source.isascii() or any(t in source for t in PREFILTER_TOKENS)


def scan_source(source: str, filename: str = "<code>", *, prefilter: bool = False) -> CodeScan:
    """The hits and the rules evaluated; raises SyntaxError/ValueError for code that does not parse.

    `prefilter`: a source without any construct the checks judge (`may_judge` False) is only parsed
    (code that does not parse still raises: what it holds is unknown, its duties incomplete), not
    walked: it evaluates nothing and hits nothing, as the walk would have found."""
    tree = ast.parse(source, filename=filename)
    if prefilter and not may_judge(source):
        return CodeScan([], frozenset())
    al = _Aliases()
    al.visit(tree)
    judged: set[str] = set()
    hits = list(_walk(tree, al.names, source, judged))
    return CodeScan(hits, frozenset(judged))


def _walk(tree: ast.AST, aliases: dict[str, str], source: str, judged: set[str]) -> Iterator[CodeHit]:
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            yield from _call(node, aliases, source, judged)
        elif isinstance(node, ast.Assign | ast.AugAssign | ast.AnnAssign):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            for t in targets:
                if not _is_environ_key(t, aliases):
                    continue
                judged.add("MLCODE-003")
                if _truthy(getattr(node, "value", None)):
                    yield CodeHit("MLCODE-003", node.lineno, node.col_offset, _src(node, source))


def _is_environ_key(t: ast.AST, aliases: dict[str, str]) -> bool:
    return isinstance(t, ast.Subscript) and qualname(t.value, aliases) == ENVIRON and _const(t.slice) == FORCE_VAR


def _truthy(value: ast.expr | None) -> bool:
    v = _const(value)
    if v is _Missing:
        return True  # computed: cannot prove it is off
    return str(v).strip().lower() not in FALSEY


def _call(node: ast.Call, aliases: dict[str, str], source: str, judged: set[str]) -> Iterator[CodeHit]:
    name = qualname(node.func, aliases) or ""
    line, col = node.lineno, node.col_offset

    def ev() -> str:  # the evidence, built only for a hit
        return _src(node, source)

    if name in TORCH_LOADS:
        judged.update(("MLCODE-001", "MLCODE-002"))
        wo = _kw(node, "weights_only")
        if wo is None:
            yield CodeHit("MLCODE-002", line, col, ev())
        elif _const(wo) is False:
            yield CodeHit("MLCODE-001", line, col, ev())
        elif _const(wo) is _Missing:
            yield CodeHit("MLCODE-002", line, col, ev(), title="torch.load with a computed weights_only")
    elif name in PICKLE_LOADS:
        judged.add("MLCODE-004")
        yield CodeHit("MLCODE-004", line, col, ev(), title=f"Deserialization with {name}")
    elif name in NUMPY_LOADS:
        allow = _const(_kw(node, "allow_pickle")) if _kw(node, "allow_pickle") is not None else False
        if allow is not _Missing:
            judged.add("MLCODE-008")
        if allow is True:
            yield CodeHit("MLCODE-008", line, col, ev())
    elif name in YAML_UNSAFE:
        judged.add("MLCODE-005")
        yield CodeHit("MLCODE-005", line, col, ev(), title=f"{name} constructs arbitrary Python objects")
    elif name in YAML_FULL:
        judged.add("MLCODE-005")
        yield CodeHit(
            "MLCODE-005",
            line,
            col,
            ev(),
            title=f"{name}: FullLoader allowed code execution before PyYAML 5.4 (CVE-2020-14343)",
            severity=Severity.MEDIUM,
        )
    elif name in YAML_LOAD:
        judged.add("MLCODE-005")
        loader = _kw(node, "Loader") or (node.args[1] if len(node.args) > 1 else None)
        lname = (qualname(loader, aliases) or "").rsplit(".", 1)[-1] if loader is not None else ""
        if lname not in SAFE_LOADERS:
            yield CodeHit("MLCODE-005", line, col, ev())
    elif name in YAML_SAFE:
        judged.add("MLCODE-005")
    elif name in EVALS:
        judged.add("MLCODE-009")
        arg = node.args[0] if node.args else None
        if arg is not None and not isinstance(arg, ast.Constant):
            yield CodeHit("MLCODE-009", line, col, ev(), title=f"{name.rsplit('.', 1)[-1]}() of a computed value")
    elif name in ENV_SETS and node.args:
        if _const(node.args[0]) == FORCE_VAR:
            judged.add("MLCODE-003")
            if _truthy(node.args[1] if len(node.args) > 1 else None):
                yield CodeHit("MLCODE-003", line, col, ev())
    elif name == ENV_UPDATE:
        for arg in node.args:
            if isinstance(arg, ast.Dict):
                for k, v in zip(arg.keys, arg.values, strict=False):
                    if k is not None and _const(k) == FORCE_VAR:
                        judged.add("MLCODE-003")
                        if _truthy(v):
                            yield CodeHit("MLCODE-003", line, col, ev())
        for kw in node.keywords:
            if kw.arg == FORCE_VAR:
                judged.add("MLCODE-003")
                if _truthy(kw.value):
                    yield CodeHit("MLCODE-003", line, col, ev())
    short = name.rsplit(".", 1)[-1]
    trc = _kw(node, TRUST_REMOTE_CODE)
    if trc is not None and _const(trc) is True:
        judged.add("MLCODE-006")
        yield CodeHit("MLCODE-006", line, col, ev())
    elif (trc is not None and _const(trc) is False) or (trc is None and short in REMOTE_CODE_LOADERS):
        judged.add("MLCODE-006")
    if name.endswith(LOAD_MODEL):
        safe = _kw(node, "safe_mode")
        if safe is not None and _const(safe) is False:
            judged.add("MLCODE-007")
            yield CodeHit("MLCODE-007", line, col, ev())
        elif name.startswith(KERAS_MODULES) and (safe is None or _const(safe) is True):
            judged.add("MLCODE-007")
    if short in HUB_DOWNLOADS:
        yield from _hub(node, short, line, col, ev, judged)


def _hub(node: ast.Call, short: str, line: int, col: int, ev: Callable[[], str], judged: set[str]) -> Iterator[CodeHit]:
    repo = _kw(node, "repo_id") or _kw(node, "pretrained_model_name_or_path") or _kw(node, "path")
    if repo is None and node.args:
        repo = node.args[0]
    rid = _const(repo)
    if not (isinstance(rid, str) and _HUB_ID.match(rid)):
        return  # a local path or a computed id: not provably a hub download
    judged.add("MLCODE-010")
    rev = _const(_kw(node, "revision"))
    if isinstance(rev, str) and _SHA.match(rev):
        return
    detail = "no revision" if rev is _Missing else f"revision={rev!r} is not a commit sha"
    yield CodeHit("MLCODE-010", line, col, ev(), title=f"{short}({rid!r}) with {detail}")


_ENV_LINE = re.compile(
    rf"^\s*(?:export\s+|ENV\s+|set\s+)?{FORCE_VAR}\s*[=\s]\s*['\"]?([^'\"\s#]*)", re.MULTILINE | re.IGNORECASE
)


def check_env_text(text: str) -> list[CodeHit]:
    """`.env`/shell assignments of TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD to a true value."""
    return scan_env_text(text).hits


def scan_env_text(text: str) -> CodeScan:
    """The hits, and MLCODE-003 as evaluated where the file assigns the variable at all."""
    hits = []
    assigned = False
    for m in _ENV_LINE.finditer(text):
        assigned = True
        if m.group(1).strip().lower() not in FALSEY:
            line = text.count("\n", 0, m.start()) + 1
            hits.append(CodeHit("MLCODE-003", line, 0, m.group(0).strip()[:200]))
    return CodeScan(hits, frozenset({"MLCODE-003"}) if assigned else frozenset())
