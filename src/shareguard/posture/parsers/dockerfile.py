"""Dockerfiles (and Containerfiles): stages, instructions with lines, ARG/ENV expansion, RUN as shell.

Follows the BuildKit frontend's reading of the file: parser directives (`# syntax=`, `# escape=`)
only at the top, comment lines dropped even inside a continuation, the escape character (`\\`
or a backtick) joining lines, heredocs (`RUN <<EOF … EOF`, `<<-`, quoted delimiters, several per
line) read after the instruction's line, JSON (exec) form vs shell form, and `--flag=value`
options. Variables are expanded the way the builder does for the instructions it expands
(FROM with global ARGs; ENV/ARG/USER/WORKDIR/COPY/ADD/EXPOSE… with the stage's ARG/ENV), and for
RUN too, so a check sees `pip install -i $INDEX` as the URL the build will use.

Resource: type `dockerfile`, one per file. `raw` is the `Dockerfile` model below; `attributes`
(for CEL rules) hold `stages` (name, base_image, base_registry, base_repository, base_tag,
base_digest, user, line), `final_stage`, `final_user`, `final_base_image`, `exposed_ports`,
`instructions` ({instruction, value, line, stage}), `env` and `args` of the final stage,
`has_healthcheck`.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any

from shareguard.core.context import ScanContext
from shareguard.core.entry import SNIFF_BYTES, FileEntry
from shareguard.core.errors import BudgetExceeded, ParseError
from shareguard.core.memo import per_scan
from shareguard.posture.model import PostureResource
from shareguard.posture.parsers.shell import ShellScript, parse_shell
from shareguard.posture.plugin import ANY_PATH, FormatSpec, name_of

_DIRECTIVE = re.compile(r"^#\s*([a-zA-Z][a-zA-Z0-9]*)\s*=\s*(.+?)\s*$")
_INSTRUCTION = re.compile(r"^\s*([A-Za-z]+)(?:\s+(.*))?$", re.S)
_HEREDOC = re.compile(r"<<(-?)\s*([\"']?)([A-Za-z_][A-Za-z0-9_.-]*)\2")
_VAR = re.compile(r"\$(?:\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?[-+])([^}]*))?\}|([A-Za-z_][A-Za-z0-9_]*))")
_FLAG = re.compile(r"^--([a-z][a-z-]*)(?:=(\S*))?$")
_HEREDOC_INSTRUCTIONS = frozenset({"RUN", "COPY", "ADD"})
_KNOWN = frozenset(
    {
        "FROM", "RUN", "CMD", "LABEL", "MAINTAINER", "EXPOSE", "ENV", "ADD", "COPY", "ENTRYPOINT", "VOLUME",
        "USER", "WORKDIR", "ARG", "ONBUILD", "STOPSIGNAL", "HEALTHCHECK", "SHELL",
    }
)  # fmt: skip
_SHELLS = frozenset({"sh", "bash", "dash", "zsh", "ash", "ksh"})
DOCKERFILE_NAMES = ("dockerfile", "containerfile")


@dataclass(frozen=True)
class Heredoc:
    name: str
    body: str
    line: int
    """Line of the first body line."""


@dataclass
class Instruction:
    keyword: str
    """Upper case (`RUN`)."""
    args: str
    """Arguments after flags, with ARG/ENV expanded."""
    raw: str
    """The logical line as written (continuations joined), for evidence."""
    line: int
    end_line: int
    stage: int
    """Index of its stage; -1 for global ARGs before the first FROM."""
    flags: dict[str, str] = field(default_factory=dict)
    exec_form: list[str] | None = None
    """The JSON array of exec form (`CMD ["python", "serve.py"]`), else None."""
    heredocs: list[Heredoc] = field(default_factory=list)
    physical: list[tuple[int, str]] = field(default_factory=list)
    """(line, text) of every physical line, to place a finding on the exact line of a token."""
    _shell: ShellScript | None = field(default=None, repr=False)

    def line_of(self, needle: str) -> int:
        """First physical line containing `needle` (the instruction's line when not found)."""
        for line, text in self.physical:
            if needle and needle in text:
                return line
        for doc in self.heredocs:
            for i, text in enumerate(doc.body.splitlines()):
                if needle and needle in text:
                    return doc.line + i
        return self.line

    @property
    def shell(self) -> ShellScript:
        """RUN's shell command (plus heredoc bodies fed to a shell), parsed once."""
        if self._shell is None:
            self._shell = parse_shell(self.shell_text())
        return self._shell

    def shell_text(self) -> str:
        if self.exec_form is not None:
            # ["sh", "-c", "…"] is a shell command; any other exec form is one argv.
            ef = self.exec_form
            if len(ef) >= 3 and ef[0].rsplit("/", 1)[-1] in _SHELLS and ef[1] == "-c":
                return ef[2]
            return " ".join(_quote(a) for a in ef)
        text = _HEREDOC.sub("", self.args).strip()
        if not self.heredocs:
            return text
        head = text.split()[0].rsplit("/", 1)[-1] if text.split() else ""
        scripts = [d.body for d in self.heredocs]
        if not text or head in _SHELLS:
            return "\n".join(scripts)  # `RUN <<EOF` / `RUN bash <<EOF`: the body is the script
        return text  # `RUN python3 <<EOF`: the body is not shell


@dataclass
class Stage:
    index: int
    base: str
    """Base image after ARG expansion (`nvidia/cuda:12.4.1-runtime-ubuntu22.04`, a stage name, `scratch`)."""
    base_raw: str
    name: str | None
    line: int
    platform: str | None = None
    instructions: list[Instruction] = field(default_factory=list)
    env: dict[str, str] = field(default_factory=dict)
    args: dict[str, str | None] = field(default_factory=dict)
    parent: int | None = None
    """Index of the stage this one is built FROM, when it is a stage reference."""

    def of(self, *keywords: str) -> list[Instruction]:
        return [i for i in self.instructions if i.keyword in keywords]


@dataclass
class Dockerfile:
    path: str
    stages: list[Stage]
    global_args: dict[str, str | None]
    instructions: list[Instruction]
    directives: dict[str, str]
    escape: str = "\\"
    expansion: ExpansionBudget = field(default_factory=lambda: ExpansionBudget(), repr=False, compare=False)
    """Bytes ARG/ENV expansion may produce in this file (`ARG A=$A$A` repeated doubles at each line)."""

    @property
    def final(self) -> Stage | None:
        return self.stages[-1] if self.stages else None

    def lineage(self, stage: Stage) -> list[Stage]:
        """The stage and the stages it is built FROM, nearest first."""
        out = [stage]
        seen = {stage.index}
        while out[-1].parent is not None and out[-1].parent not in seen:
            seen.add(out[-1].parent)
            out.append(self.stages[out[-1].parent])
        return out

    def root_base(self, stage: Stage) -> str:
        """The external image a stage ultimately builds on."""
        return self.lineage(stage)[-1].base


@dataclass(frozen=True)
class ImageRef:
    registry: str
    repository: str
    tag: str | None
    digest: str | None

    @property
    def full(self) -> str:
        return f"{self.registry}/{self.repository}"


def parse_image_ref(ref: str) -> ImageRef:
    """Docker's normalisation: `ubuntu` → docker.io/library/ubuntu, registry when the first part has `.`/`:`."""
    name, _, digest = ref.partition("@")
    tag: str | None = None
    slash = name.rfind("/")
    colon = name.rfind(":")
    if colon > slash:
        name, tag = name[:colon], name[colon + 1 :]
    first, _, rest = name.partition("/")
    if rest and ("." in first or ":" in first or first == "localhost"):
        registry, repo = first, rest
    else:
        registry, repo = "docker.io", name
    if registry in ("docker.io", "index.docker.io", "registry-1.docker.io"):
        registry = "docker.io"
        if "/" not in repo:
            repo = f"library/{repo}"
    return ImageRef(registry.lower(), repo, tag, digest or None)


# --- claiming -------------------------------------------------------------------------------------

_NOT_DOCKERFILE_SUFFIXES = (".dockerignore", ".md", ".txt", ".yaml", ".yml", ".json", ".sh", ".py", ".orig", ".rej")


def claim(entry: FileEntry) -> bool:
    by_path = _by_path(entry.name, entry.size)
    return sniff(entry.head(SNIFF_BYTES)) if by_path is None else by_path


def required(path: str, size: int) -> bool:
    """The path rule of `claim`: a Dockerfile name, or an extension-less file to sniff."""
    return _by_path(name_of(path), size) is not False


def _by_path(file_name: str, size: int) -> bool | None:
    """True/False where the name decides, None for a file whose content is to be sniffed."""
    name = file_name.lower()
    if name.endswith(_NOT_DOCKERFILE_SUFFIXES):
        return False
    if name in DOCKERFILE_NAMES or name.endswith((".dockerfile", ".containerfile")):
        return True
    if name.startswith(("dockerfile.", "dockerfile-", "dockerfile_", "containerfile.")):
        return True
    # Content sniffing only for extension-less files: cheap, and never steals another format's files.
    if "." in name or size == 0 or size > 1024 * 1024:
        return False
    return None


def sniff(head: bytes) -> bool:
    """The first instruction is FROM (or ARG), and a FROM follows."""
    if b"\x00" in head:
        return False
    text = head.decode("utf-8", errors="replace")
    for line in text.splitlines():
        s = line.strip()
        if not s or s.startswith("#"):
            continue
        word = s.split(None, 1)[0].upper()
        if word == "FROM":
            return len(s.split()) >= 2
        return word == "ARG" and re.search(r"(?im)^\s*FROM\s+\S", text) is not None
    return False


# --- parsing ---------------------------------------------------------------------------------------


def parse(entry: FileEntry, ctx: ScanContext) -> list[PostureResource]:
    raw = entry.read(ctx.settings.budgets.max_config_bytes)
    if b"\x00" in raw[:SNIFF_BYTES]:
        raise ParseError("binary content, not a Dockerfile", path=entry.rel_path)
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        ctx.warn(
            entry.rel_path, f"not valid UTF-8 (byte {exc.start}); undecodable bytes replaced", "posture.dockerfile"
        )
        text = raw.decode("utf-8", errors="replace")
    df = parse_text(text, entry.rel_path)
    if not df.stages:
        raise ParseError("no FROM instruction: not a Dockerfile", path=entry.rel_path)
    return [to_resource(df)]


def parse_text(text: str, path: str = "Dockerfile") -> Dockerfile:
    """Parse Dockerfile text; never raises on odd content (unknown instructions are kept). Raises
    `BudgetExceeded` when variable expansion would produce more than `MAX_EXPANDED_BYTES`."""
    lines = text.lstrip("\ufeff").splitlines()
    directives, start = _directives(lines)
    escape = directives.get("escape", "\\")
    if escape not in ("\\", "`"):
        escape = "\\"
    instructions = _logical_lines(lines, start, escape)
    df = Dockerfile(path=path, stages=[], global_args={}, instructions=[], directives=directives, escape=escape)
    df.expansion.path = path
    for inst in instructions:
        _place(df, inst)
    return df


def _directives(lines: list[str]) -> tuple[dict[str, str], int]:
    out: dict[str, str] = {}
    for i, line in enumerate(lines):
        m = _DIRECTIVE.match(line.strip())
        if not m or m.group(1).lower() in out:
            return out, i
        out[m.group(1).lower()] = m.group(2)
    return out, len(lines)


def _logical_lines(lines: list[str], start: int, escape: str) -> list[Instruction]:
    out: list[Instruction] = []
    i = start
    n = len(lines)
    while i < n:
        line = lines[i]
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            i += 1
            continue
        first = i + 1
        physical = [(i + 1, line)]
        parts: list[str] = []
        cur = line
        while True:
            body = cur.rstrip()
            if body.endswith(escape) and not body.endswith(escape * 2):
                parts.append(body[:-1])
                i += 1
                # Comment and empty lines inside a continuation are dropped, as BuildKit does.
                while i < n and (not lines[i].strip() or lines[i].lstrip().startswith("#")):
                    i += 1
                if i >= n:
                    break
                cur = lines[i]
                physical.append((i + 1, cur))
                continue
            parts.append(cur)
            break
        logical = " ".join(p.strip() for p in parts).strip()
        end = i + 1
        i += 1
        m = _INSTRUCTION.match(logical)
        if not m:
            continue
        keyword = m.group(1).upper()
        args = (m.group(2) or "").strip()
        heredocs: list[Heredoc] = []
        if keyword in _HEREDOC_INSTRUCTIONS and "<<" in args:
            for hm in _HEREDOC.finditer(args):
                strip_tabs, _, name = hm.groups()
                body_lines: list[str] = []
                body_start = i + 1
                while i < n and (lines[i].lstrip("\t") if strip_tabs else lines[i]) != name:
                    body_lines.append(lines[i].lstrip("\t") if strip_tabs else lines[i])
                    i += 1
                i += 1  # the terminator (or the end of the file)
                heredocs.append(Heredoc(name, "\n".join(body_lines), body_start))
            end = min(i, n)
        out.append(
            Instruction(
                keyword=keyword,
                args=args,
                raw=logical,
                line=first,
                end_line=end,
                stage=-1,
                heredocs=heredocs,
                physical=physical,
            )
        )
    return out


def _place(df: Dockerfile, inst: Instruction) -> None:
    """Attach the instruction to its stage, split flags, read exec form and expand variables."""
    inst.flags, rest = (
        _split_flags(inst.args) if inst.keyword in ("FROM", "COPY", "ADD", "RUN", "HEALTHCHECK") else ({}, inst.args)
    )
    df.instructions.append(inst)
    if inst.keyword == "FROM":
        _start_stage(df, inst, rest)
        return
    stage = df.final
    if stage is None:
        inst.stage = -1
        if inst.keyword == "ARG":
            for key, value in kv_pairs(rest, arg=True):
                df.global_args[key] = (
                    _expand(value, _scope(df.global_args), df.expansion) if value is not None else None
                )
        inst.args = rest
        return
    inst.stage = stage.index
    stage.instructions.append(inst)
    scope = {**_scope(stage.args), **stage.env}
    if rest.startswith("["):
        try:
            value = json.loads(rest)
        except ValueError:
            value = None
        if isinstance(value, list) and all(isinstance(v, str) for v in value):
            inst.exec_form = (
                [_expand(v, scope, df.expansion) for v in value] if inst.keyword not in ("CMD", "ENTRYPOINT") else value
            )
    if inst.keyword == "ARG":
        for key, value in kv_pairs(rest, arg=True):
            if value is None and key in df.global_args:
                value = df.global_args[key]  # `ARG NAME` re-declares a global ARG inside the stage
            stage.args[key] = _expand(value, scope, df.expansion) if value is not None else None
            scope = {**_scope(stage.args), **stage.env}
    elif inst.keyword == "ENV":
        for key, value in kv_pairs(rest, arg=False):
            stage.env[key] = _expand(value or "", scope, df.expansion)
            scope = {**_scope(stage.args), **stage.env}
    inst.args = _expand(rest, scope, df.expansion) if inst.keyword not in ("CMD", "ENTRYPOINT") else rest


def _start_stage(df: Dockerfile, inst: Instruction, rest: str) -> None:
    words = rest.split()
    base_raw = words[0] if words else ""
    name = words[2].lower() if len(words) >= 3 and words[1].lower() == "as" else None
    base = _expand(base_raw, _scope(df.global_args), df.expansion)
    stage = Stage(
        index=len(df.stages),
        base=base,
        base_raw=base_raw,
        name=name,
        line=inst.line,
        platform=inst.flags.get("platform"),
    )
    for prev in df.stages:
        if prev.name is not None and prev.name == base.lower():
            stage.parent = prev.index
            # Built FROM a stage: it inherits that stage's environment.
            stage.env = dict(prev.env)
    inst.stage = stage.index
    inst.args = rest
    stage.instructions.append(inst)
    df.stages.append(stage)


def _split_flags(args: str) -> tuple[dict[str, str], str]:
    flags: dict[str, str] = {}
    rest = args
    while rest.startswith("--"):
        word, _, tail = rest.partition(" ")
        m = _FLAG.match(word)
        if not m:
            break
        key, value = m.group(1), m.group(2) if m.group(2) is not None else "true"
        # `--mount` may repeat: keep them all, `;`-separated.
        flags[key] = f"{flags[key]};{value}" if key in flags else value
        rest = tail.lstrip()
    return flags, rest


@per_scan(maxsize=8192)  # the scan's: ENV values hold secrets
def kv_pairs(text: str, *, arg: bool) -> tuple[tuple[str, str | None], ...]:
    """`K=V K2="v 2"` pairs, or the legacy `ENV K some value` form; `ARG K` has no value."""
    return tuple(_kv_pairs(text, arg=arg))


def _kv_pairs(text: str, *, arg: bool) -> list[tuple[str, str | None]]:
    text = text.strip()
    if not text:
        return []
    first = text.split(None, 1)
    if "=" not in first[0]:
        if arg:
            return [(first[0], None)]
        return [(first[0], _unquote(first[1]) if len(first) > 1 else "")]
    if not any(c in text for c in "\"'\\"):
        words = text.split()  # the common case; shlex is slow
    else:
        try:
            words = _shlex_words(text)
        except ValueError:
            words = text.split()
    out: list[tuple[str, str | None]] = []
    for w in words:
        key, eq, value = w.partition("=")
        if key:
            out.append((key, value if eq else None))
    return out


def _shlex_words(text: str) -> list[str]:
    import shlex

    lex = shlex.shlex(text, posix=True)
    lex.whitespace_split = True
    lex.commenters = ""
    lex.escape = ""  # backslashes are kept literally in Dockerfile values
    return list(lex)


def _unquote(value: str) -> str:
    v = value.strip()
    if len(v) >= 2 and v[0] == v[-1] and v[0] in "\"'":
        return v[1:-1]
    return v


def _scope(args: dict[str, str | None]) -> dict[str, str]:
    return {k: v for k, v in args.items() if v is not None}


MAX_EXPANDED_BYTES = 16 * 1024 * 1024
"""What variable expansion may produce over one Dockerfile (values substituted, in characters)."""


class ExpansionBudget:
    """Characters substituted by ARG/ENV expansion so far in one file; past the limit, a `BudgetExceeded`.

    Self-doubling ARGs (`ARG A=x`, then `ARG A=$A$A` repeated) grow a 682-byte file to gigabytes: every
    substituted value is charged before it is joined into a longer string, so the file fails clearly
    (a per-file issue) long before memory does."""

    __slots__ = ("limit", "path", "used")

    def __init__(self, limit: int = MAX_EXPANDED_BYTES, path: str = "Dockerfile") -> None:
        self.limit = limit
        self.path = path
        self.used = 0

    def charge(self, n: int) -> None:
        self.used += n
        if self.used > self.limit:
            raise BudgetExceeded(
                f"ARG/ENV variable expansion produces more than {self.limit} characters (self-referencing ARGs?)",
                path=self.path,
            )


def _expand(text: str, scope: dict[str, str], budget: ExpansionBudget | None = None) -> str:
    """`$VAR`, `${VAR}`, `${VAR:-default}`, `${VAR-default}`, `${VAR:+alt}`; unknown variables stay as written.

    Every substituted value is charged to `budget` (one per file) before it is used."""
    if "$" not in text:
        return text
    charge = budget.charge if budget is not None else (lambda n: None)

    def repl(m: re.Match[str]) -> str:
        name = m.group(1) or m.group(4)
        op, word = m.group(2), m.group(3)
        value = scope.get(name)
        if op in (":-", "-"):
            if value is None or (op == ":-" and value == ""):
                return _expand(word or "", scope, budget)
            charge(len(value))
            return value
        if op in (":+", "+"):
            return _expand(word or "", scope, budget) if value else ""
        if value is None:
            return m.group(0)
        charge(len(value))
        return value

    return _VAR.sub(repl, text)


def _quote(arg: str) -> str:
    return arg if arg and all(c.isalnum() or c in "-_./:=@%+,~" for c in arg) else json.dumps(arg)


# --- normalisation ---------------------------------------------------------------------------------


def stage_user(df: Dockerfile, stage: Stage) -> tuple[str | None, Instruction | None]:
    """The USER in effect at the end of a stage (following FROM-stage inheritance)."""
    for st in df.lineage(stage):
        users = st.of("USER")
        if users:
            return users[-1].args.strip(), users[-1]
    return None, None


def to_resource(df: Dockerfile) -> PostureResource:
    final = df.final
    stages: list[dict[str, Any]] = []
    for st in df.stages:
        ref = parse_image_ref(df.root_base(st)) if st.parent is None and st.base.lower() != "scratch" else None
        user, _ = stage_user(df, st)
        stages.append(
            {
                "name": st.name or "",
                "index": st.index,
                "line": st.line,
                "base_image": st.base,
                "base_registry": ref.registry if ref else "",
                "base_repository": ref.repository if ref else "",
                "base_tag": (ref.tag or "") if ref else "",
                "base_digest": (ref.digest or "") if ref else "",
                "from_stage": st.parent is not None,
                "user": user or "",
            }
        )
    final_user, _ = stage_user(df, final) if final else (None, None)
    lineage = df.lineage(final) if final else []
    exposed = [p for st in lineage for inst in st.of("EXPOSE") for p in inst.args.split()]
    attrs: dict[str, Any] = {
        "stages": stages,
        "final_stage": final.name or str(final.index) if final else "",
        "final_user": final_user or "",
        "final_base_image": df.root_base(final) if final else "",
        "exposed_ports": exposed,
        "has_healthcheck": any(st.of("HEALTHCHECK") for st in lineage),
        "env": dict(final.env) if final else {},
        "args": {k: v or "" for k, v in (final.args if final else {}).items()},
        "instructions": [
            {"instruction": i.keyword, "value": i.args, "line": i.line, "stage": i.stage} for i in df.instructions
        ],
        "directives": dict(df.directives),
    }
    line_map = {f"instructions[{n}]": i.line for n, i in enumerate(df.instructions)}
    line_map.update({f"stages[{n}]": st.line for n, st in enumerate(df.stages)})
    return PostureResource(
        type="dockerfile",
        name=df.path,
        file=df.path,
        line=df.stages[0].line if df.stages else 1,
        attributes=attrs,
        source_format="dockerfile",
        raw_type="dockerfile",
        lines=line_map,
        raw=df,
    )


FORMAT = FormatSpec(
    name="dockerfile",
    claim=claim,
    parse=parse,
    families=("dockerfile", "textfields"),
    path_hint=ANY_PATH,  # extension-less files are sniffed
    required=required,
)
