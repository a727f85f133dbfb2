"""Apache Beam pipeline options, normalised to the canonical `gcp.dataflow.job` (source_format `beam`).

Where options are found:
- launch scripts and CI steps (`*.sh`, Makefiles, `*.yaml`/`*.yml`): each command line that runs on Dataflow
  (`--runner=DataflowRunner`, `gcloud dataflow flex-template run`, `gcloud dataflow jobs run`) with its
  `--flag=value` / `--flag value` / `--no_flag` options (continuation lines joined);
- Python code (AST, never executed): `PipelineOptions([...])`, `PipelineOptions(flags=[...])`, keyword options
  (`PipelineOptions(experiments=[...], dataflow_kms_key=...)`), argv-style lists of `--flag=value` strings,
  `….view_as(GoogleCloudOptions).dataflow_kms_key = ...`, `debug_options.experiments = [...]`,
  `….add_experiment("x")`; all options of one file form one resource;
- `apache-beam==X` pins in requirements files (`gcp.dataflow.sdk`, for the SDK support check).

`dataflow_runner` says whether the Dataflow runner is explicit: checks for a *missing* option only fire then,
because options may otherwise come from the command line at run time.
"""

from __future__ import annotations

import ast
import re
import shlex
from typing import Any

from shareguard.core.context import ScanContext
from shareguard.core.entry import FileEntry
from shareguard.core.errors import ParseError
from shareguard.posture.model import PostureResource
from shareguard.posture.parsers._build import build
from shareguard.posture.plugin import FormatSpec, name_of, suffix_hint, suffix_of

_SHELL_SUFFIXES = (".sh", ".bash", ".mk", ".yaml", ".yml")
_SHELL_NAMES = ("Makefile", "makefile", "GNUmakefile", "Jenkinsfile")
_DATAFLOW_CMD = re.compile(r"DataflowRunner|dataflow\s+(?:flex-template|jobs)\s+run")
_PIN = re.compile(r"(?im)^\s*[\"']?apache[-_]beam(?:\[[^\]]*\])?\s*===?\s*([0-9][0-9a-z.]*)")
_LIST_OPTIONS = frozenset({"experiments", "additional_experiments", "dataflow_service_options"})
_BOOL_NEGATIONS = {"no_use_public_ips": ("use_public_ips", False), "disable_public_ips": ("use_public_ips", False)}
_MAX_TOKENS = 20_000


def claim(entry: FileEntry) -> bool:
    name, suffix = entry.name, entry.suffix
    if suffix == ".py":
        head = entry.head(65536)
        return b"apache_beam" in head or b"PipelineOptions" in head
    if name.startswith("requirements") and suffix in (".txt", ".in"):
        return b"apache" in entry.head(65536).lower()
    if suffix in _SHELL_SUFFIXES or name in _SHELL_NAMES:
        head = entry.head(65536)
        return b"DataflowRunner" in head or b"dataflow flex-template" in head or b"dataflow jobs run" in head
    return False


def required(path: str, size: int) -> bool:
    """The path rule of `claim` (which then sniffs the content)."""
    name = name_of(path)
    suffix = suffix_of(name)
    if suffix == ".py" or suffix in _SHELL_SUFFIXES or name in _SHELL_NAMES:
        return True
    return name.startswith("requirements") and suffix in (".txt", ".in")


class _Options:
    """Collected options: canonical snake_case name → value, and name → line."""

    def __init__(self) -> None:
        self.values: dict[str, Any] = {}
        self.lines: dict[str, int] = {}

    def set(self, name: str, value: Any, line: int) -> None:
        key = name.lstrip("-").replace("-", "_")
        if key in _BOOL_NEGATIONS:
            key, value = _BOOL_NEGATIONS[key]
        elif key.startswith("no_") and value is True:
            key, value = key[3:], False
        if key in _LIST_OPTIONS:
            items = value if isinstance(value, list) else [value]
            flat = [s.strip() for v in items if isinstance(v, str) for s in v.split(",") if s.strip()]
            self.values.setdefault(key, []).extend(flat)
        elif key == "parameters" and isinstance(value, str):
            params = self.values.setdefault("parameters", {})
            for pair in value.split(","):
                k, _, v = pair.partition("=")
                if k.strip():
                    params[k.strip()] = v.strip()
        else:
            self.values[key] = value
        self.lines.setdefault(key, line)

    def resource(self, entry: FileEntry, name: str, line: int) -> PostureResource:
        vals = dict(self.values)
        runner = vals.get("runner")
        gcloud = vals.pop("_gcloud", False)
        explicit = gcloud or (isinstance(runner, str) and runner.endswith("DataflowRunner"))
        if "parameters" in vals:  # flex-template run --parameters experiments=…,sdk_container_image=…
            params = vals["parameters"]
            for key in ("experiments", "sdk_container_image", "dataflow_kms_key", "service_account_email"):
                if key in params and key not in vals:
                    vals[key] = params[key].split(",") if key == "experiments" else params[key]
                    self.lines.setdefault(key, self.lines.get("parameters", line))
        if gcloud and "additional_experiments" in vals:
            vals.setdefault("experiments", []).extend(vals.pop("additional_experiments"))
            self.lines.setdefault("experiments", self.lines.get("additional_experiments", line))
        if "template_file_gcs_location" in vals:
            vals["container_spec_gcs_path"] = vals["template_file_gcs_location"]
            self.lines.setdefault("container_spec_gcs_path", self.lines.get("template_file_gcs_location", line))
        return build(
            raw_type="beam:pipeline_options",
            name=name,
            file=entry.rel_path,
            line=line,
            view=vals,
            source_format="beam",
            lines=dict(self.lines),
            extra={"dataflow_runner": bool(explicit)},
        )


# --- shell / CI text -----------------------------------------------------------------------------------


def _logical_lines(text: str) -> list[tuple[int, str, list[int]]]:
    """Join `\\`-continued lines: (first line number, joined text, line number of each joined piece)."""
    out: list[tuple[int, str, list[int]]] = []
    buf: list[str] = []
    nums: list[int] = []
    for n, line in enumerate(text.splitlines(), start=1):
        stripped = line.rstrip()
        if stripped.endswith("\\"):
            buf.append(stripped[:-1])
            nums.append(n)
            continue
        buf.append(stripped)
        nums.append(n)
        out.append((nums[0], " ".join(buf), list(nums)))
        buf, nums = [], []
    if buf:
        out.append((nums[0], " ".join(buf), nums))
    return out


def _flag_line(text: str, pieces: list[int], raw_lines: list[str], flag: str) -> int:
    for n in pieces:
        if flag in raw_lines[n - 1]:
            return n
    return pieces[0]


def parse_command(tokens: list[str], opts: _Options, line_of: Any) -> None:
    """Options of one command's tokens: `--k=v`, `--k v`, boolean `--k`."""
    i = 0
    if "gcloud" in tokens and "dataflow" in tokens:
        opts.values["_gcloud"] = True
    while i < len(tokens) and i < _MAX_TOKENS:
        tok = tokens[i]
        if tok.startswith("--") and len(tok) > 2:
            name, eq, value = tok[2:].partition("=")
            if eq:
                opts.set(name, value, line_of(tok))
            elif i + 1 < len(tokens) and not tokens[i + 1].startswith("-") and tokens[i + 1] not in ("|", "&&", ";"):
                opts.set(name, tokens[i + 1], line_of(tok))
                i += 1
            else:
                opts.set(name, True, line_of(tok))
        i += 1


def _parse_text(entry: FileEntry, text: str) -> list[PostureResource]:
    raw_lines = text.splitlines()
    out: list[PostureResource] = []
    logical = _logical_lines(text)
    commands = [item for item in logical if _DATAFLOW_CMD.search(item[1])]
    if entry.suffix in (".yaml", ".yml") and len(commands) == 0:
        # CI/Cloud Build steps keep args as YAML lists: read the whole file as one command.
        commands = [(1, text.replace("'", " ").replace('"', " ").replace(",", " "), list(range(1, len(raw_lines) + 1)))]
    for first, joined, pieces in commands:
        try:
            tokens = shlex.split(joined, comments=True, posix=True)
        except ValueError:
            tokens = joined.split()
        opts = _Options()
        parse_command(tokens, opts, lambda tok, p=pieces: _flag_line(text, p, raw_lines, tok.split("=", 1)[0]))
        if "runner" not in opts.values and "DataflowRunner" in joined:
            opts.values["runner"] = "DataflowRunner"
        out.append(opts.resource(entry, f"{entry.rel_path}:{first}", first))
    return out


# --- Python --------------------------------------------------------------------------------------------


def _literal(node: ast.AST) -> Any:
    try:
        return ast.literal_eval(node)
    except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
        return None


def _call_name(node: ast.Call) -> str:
    f = node.func
    if isinstance(f, ast.Name):
        return f.id
    if isinstance(f, ast.Attribute):
        return f.attr
    return ""


def _flag_list(node: ast.AST, opts: _Options) -> bool:
    """A list/tuple literal of `--flag[=value]` strings: add them; True when it was one."""
    if not isinstance(node, ast.List | ast.Tuple):
        return False
    strs = [e.value for e in node.elts if isinstance(e, ast.Constant) and isinstance(e.value, str)]
    if not strs or not any(s.startswith("--") for s in strs):
        return False
    line = node.lineno
    lines = {e.value: e.lineno for e in node.elts if isinstance(e, ast.Constant) and isinstance(e.value, str)}
    parse_command(strs, opts, lambda tok: lines.get(tok, line))
    return True


def _parse_python(entry: FileEntry, text: str) -> list[PostureResource]:
    try:
        tree = ast.parse(text, filename=entry.rel_path)
    except SyntaxError as exc:
        raise ParseError(f"Python syntax error: {exc.msg}", path=entry.rel_path, line=exc.lineno) from None
    except (RecursionError, MemoryError, ValueError):
        raise ParseError("Python source too deeply nested or invalid", path=entry.rel_path) from None
    opts = _Options()
    first_line: int | None = None
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and _call_name(node) == "PipelineOptions":
            first_line = first_line or node.lineno
            for arg in node.args[:1]:
                _flag_list(arg, opts)
            for kw in node.keywords:
                if kw.arg in (None,):
                    continue
                if kw.arg in ("flags", "argv"):
                    _flag_list(kw.value, opts)
                    continue
                value = _literal(kw.value)
                opts.set(kw.arg, value if value is not None else "${expr}", kw.value.lineno)
        elif isinstance(node, ast.Call) and _call_name(node) == "add_experiment" and node.args:
            value = _literal(node.args[0])
            if isinstance(value, str):
                opts.set("experiments", [value], node.lineno)
        elif isinstance(node, ast.Assign | ast.AnnAssign):
            value_node = node.value
            if value_node is None:
                continue
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            if _flag_list(value_node, opts):
                first_line = first_line or node.lineno
                continue
            for t in targets:
                if isinstance(t, ast.Attribute) and t.attr in _KNOWN_ATTRS:
                    value = _literal(value_node)
                    opts.set(t.attr, value if value is not None else "${expr}", node.lineno)
                    first_line = first_line or node.lineno
        elif isinstance(node, ast.Call) and _call_name(node) in ("extend", "append") and node.args:
            _flag_list(node.args[0], opts)
    if not opts.values:
        return []
    return [opts.resource(entry, entry.rel_path, first_line or 1)]


_KNOWN_ATTRS = frozenset(
    {
        "runner",
        "experiments",
        "dataflow_kms_key",
        "service_account_email",
        "use_public_ips",
        "sdk_container_image",
        "dataflow_service_options",
        "streaming",
        "project",
        "region",
        "subnetwork",
        "network",
        "labels",
        "job_name",
    }
)


def _parse_requirements(entry: FileEntry, text: str) -> list[PostureResource]:
    out = []
    for m in _PIN.finditer(text):
        line = text.count("\n", 0, m.start()) + 1
        out.append(
            PostureResource(
                type="gcp.dataflow.sdk",
                name=f"apache-beam=={m.group(1)}",
                file=entry.rel_path,
                line=line,
                attributes={"sdk_version": m.group(1), "sdk_language": "python"},
                source_format="beam",
                raw_type="requirements:apache-beam",
                lines={"sdk_version": line},
            )
        )
    return out


def parse(entry: FileEntry, ctx: ScanContext) -> list[PostureResource]:
    text = entry.read_text(ctx.settings.budgets.max_config_bytes)
    if entry.suffix == ".py":
        return _parse_python(entry, text)
    if entry.name.startswith("requirements"):
        return _parse_requirements(entry, text)
    return _parse_text(entry, text)


FORMAT = FormatSpec(
    name="beam",
    claim=claim,
    parse=parse,
    path_hint=suffix_hint(".py", ".txt", ".in", *_SHELL_SUFFIXES, *_SHELL_NAMES),
    required=required,
)
