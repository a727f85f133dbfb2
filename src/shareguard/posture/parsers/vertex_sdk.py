"""Vertex AI training jobs launched from Python with the Vertex AI SDK (`google.cloud.aiplatform`).

Every construction of `CustomJob`, `CustomTrainingJob`, `CustomContainerTrainingJob`,
`CustomPythonPackageTrainingJob` or `HyperparameterTuningJob` is one resource (raw type `vertex:sdk_job`, judged by
`posture/attributes/vertexai_jobs.yaml`), at the line of the call. Its attributes are the keyword arguments that
carry the security settings, from the constructor and from the `run(...)` / `submit(...)` call on the same object
(a variable it was assigned to, or a chained call), over the defaults of `aiplatform.init(...)`:
`encryption_spec_key_name` (`training_encryption_spec_key_name` of the training-job classes),
`service_account`, `network`, `psc_interface_config`, `enable_web_access`, `reserved_ip_ranges`.

A literal is taken as written; any other expression (a variable, `args.network`, a function call) is kept as an
unresolved `${…}` value, and a call with `**kwargs` leaves every setting it does not name unresolved: the rules
report those as unresolved, never as secure. The file is never executed.
"""

from __future__ import annotations

import ast
from typing import Any

from shareguard.core.context import ScanContext
from shareguard.core.entry import FileEntry
from shareguard.core.errors import ParseError
from shareguard.posture.model import PostureResource
from shareguard.posture.parsers._build import build
from shareguard.posture.plugin import FormatSpec, name_of, suffix_hint, suffix_of

JOB_CLASSES = frozenset(
    {
        "CustomJob",
        "CustomTrainingJob",
        "CustomContainerTrainingJob",
        "CustomPythonPackageTrainingJob",
        "HyperparameterTuningJob",
    }
)
SETTINGS = (
    "encryption_spec_key_name",
    "training_encryption_spec_key_name",
    "service_account",
    "network",
    "psc_interface_config",
    "enable_web_access",
    "reserved_ip_ranges",
)
_LAUNCH = frozenset({"run", "submit"})
_SNIFF = (b"aiplatform", b"CustomJob", b"TrainingJob")


def required(path: str, size: int) -> bool:
    return size > 0 and suffix_of(name_of(path)) == ".py"


def claim(entry: FileEntry) -> bool:
    if entry.suffix != ".py" or entry.size == 0:
        return False
    head = entry.head(65536)
    return b"aiplatform" in head and any(m in head for m in _SNIFF[1:])


def _name(func: ast.expr) -> str:
    if isinstance(func, ast.Name):
        return func.id
    if isinstance(func, ast.Attribute):
        return func.attr
    return ""


def _value(node: ast.expr) -> Any:
    """A literal as written; anything else an unresolved `${…}` value."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str | bool | int | float):
        return node.value
    if isinstance(node, ast.Constant) and node.value is None:
        return None
    try:
        text = ast.unparse(node)
    except (ValueError, RecursionError):  # pragma: no cover - ast.unparse of a parsed tree
        text = "expression"
    return "${" + text[:120] + "}"


class _Job:
    def __init__(self, call: ast.Call, cls: str) -> None:
        self.cls = cls
        self.line = call.lineno
        self.values: dict[str, Any] = {}
        self.lines: dict[str, int] = {}
        self.expanded: str | None = None

    def take(self, call: ast.Call) -> None:
        for kw in call.keywords:
            if kw.arg is None:
                self.expanded = self.expanded or "${**" + _value(kw.value)[2:]
            elif kw.arg in SETTINGS:
                self.values[kw.arg] = _value(kw.value)
                self.lines[kw.arg] = kw.value.lineno


def _jobs(tree: ast.AST) -> tuple[list[_Job], dict[str, Any], dict[str, int]]:
    """The jobs constructed in a module, with the settings of their launch calls; the `aiplatform.init` defaults."""
    jobs: list[_Job] = []
    by_call: dict[int, _Job] = {}
    by_var: dict[str, _Job] = {}
    defaults: dict[str, Any] = {}
    default_lines: dict[str, int] = {}
    nodes = sorted(
        (n for n in ast.walk(tree) if isinstance(n, ast.Call | ast.Assign)),
        key=lambda n: (n.lineno, n.col_offset),
    )
    for node in nodes:
        if isinstance(node, ast.Call):
            name = _name(node.func)
            if name in JOB_CLASSES and id(node) not in by_call:
                job = _Job(node, name)
                job.take(node)
                jobs.append(job)
                by_call[id(node)] = job
            elif name == "init" and isinstance(node.func, ast.Attribute) and "aiplatform" in ast.unparse(node.func):
                for kw in node.keywords:
                    if kw.arg in SETTINGS:
                        defaults[kw.arg] = _value(kw.value)
                        default_lines[kw.arg] = kw.value.lineno
            elif name in _LAUNCH and isinstance(node.func, ast.Attribute):
                target = node.func.value
                job = None
                if isinstance(target, ast.Name):
                    job = by_var.get(target.id)
                elif isinstance(target, ast.Call) and _name(target.func) in JOB_CLASSES:
                    job = by_call.get(id(target))
                    if job is None:
                        job = _Job(target, _name(target.func))
                        job.take(target)
                        jobs.append(job)
                        by_call[id(target)] = job
                if job is not None:
                    job.take(node)
        elif isinstance(node.value, ast.Call) and _name(node.value.func) in JOB_CLASSES:
            job = by_call.get(id(node.value))
            if job is None:
                job = _Job(node.value, _name(node.value.func))
                job.take(node.value)
                jobs.append(job)
                by_call[id(node.value)] = job
            for t in node.targets:
                if isinstance(t, ast.Name):
                    by_var[t.id] = job
    return jobs, defaults, default_lines


def parse(entry: FileEntry, ctx: ScanContext) -> list[PostureResource]:
    text = entry.read_text(ctx.settings.budgets.max_config_bytes)
    try:
        tree = ast.parse(text, filename=entry.rel_path)
    except SyntaxError as exc:
        raise ParseError(f"Python syntax error: {exc.msg}", path=entry.rel_path, line=exc.lineno) from None
    except (RecursionError, MemoryError, ValueError):
        raise ParseError("Python source too deeply nested or invalid", path=entry.rel_path) from None
    jobs, defaults, default_lines = _jobs(tree)
    out: list[PostureResource] = []
    for job in jobs:
        view: dict[str, Any] = {**defaults, **job.values}
        lines = {**default_lines, **job.lines}
        if job.expanded:
            for key in SETTINGS:
                view.setdefault(key, job.expanded)
        view["job_class"] = job.cls
        out.append(
            build(
                raw_type="vertex:sdk_job",
                name=f"{entry.rel_path}:{job.line}",
                file=entry.rel_path,
                line=job.line,
                view=view,
                source_format="vertex",
                lines=lines,
            )
        )
    return out


FORMAT = FormatSpec(
    name="vertex_sdk",
    claim=claim,
    parse=parse,
    path_hint=suffix_hint(".py"),
    required=required,
    families=("attributes",),
)
