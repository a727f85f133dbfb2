"""Dataflow / Beam pipeline options in launch code of any language, normalised to `gcp.dataflow.job`
(raw type `beam:pipeline_options`, source format `launch`).

Shell, Python, Makefiles and CI YAML that name the Dataflow runner are read by `beam_options`; this reader
takes every other file that looks like launch code — PowerShell (`.ps1`, UTF-16 with BOM too), batch files,
Java, Kotlin, Scala, Groovy/Jenkinsfiles, Go, JavaScript/TypeScript, C#, config and text files, extension-less
scripts chosen by their content — and finds, with the `launch_tokens` tokenizer, the forms options are
written in:

- flags, bare or quoted: `--experiments=a,b`, `--experiments a,b`, `"--experiments", "a"` (argument arrays,
  `String[] args`, `[]string{…}`, YAML lists), `"--experiments=a --runner=DataflowRunner"` in one string;
- setter and keyword forms: `options.setExperiments(Arrays.asList("a", "b"))`,
  `ExperimentalOptions.addExperiment(opts, "a")`, `experiments.add("a")`, `Experiments: []string{"a"}`,
  `experiments = listOf("a")`, `setDataflowKmsKey("…")`, `setUsePublicIps(false)`, `setRunner(DataflowRunner.class)`.

A comma-separated experiment list is split; each experiment keeps the line it is written on (`experiments[i]`
in the resource's lines). One resource per file. `dataflow_runner` is set only when the Dataflow runner is named
and the code does not also take options from its command line (`fromArgs(args)`, `flag.Parse()`, `"$@"`…):
only then do checks for a *missing* option (KMS key, private IPs, service account) apply. Nothing is executed.
"""

from __future__ import annotations

import re
from typing import Any

from shareguard.core.context import ScanContext
from shareguard.core.entry import FileEntry
from shareguard.posture.model import PostureResource
from shareguard.posture.parsers import beam_options
from shareguard.posture.parsers._build import build
from shareguard.posture.parsers._common import snake
from shareguard.posture.parsers.launch_tokens import (
    FAMILY_BY_SUFFIX,
    Family,
    Token,
    decode,
    family_of,
    sniff_text,
    tokenize,
)
from shareguard.posture.plugin import ANY_PATH, FormatSpec, name_of, suffix_of

_EXTRA_SUFFIXES = frozenset({".txt", ""})
"""Besides the launch languages: text files and extension-less scripts, chosen by content."""
_SKIP_NAMES = frozenset({"Dockerfile", "Containerfile"})
_NAME_FAMILY: dict[str, Family] = {
    "Jenkinsfile": "c",
    "Makefile": "shell",
    "makefile": "shell",
    "GNUmakefile": "shell",
}
_MARKER = re.compile(
    r"--?experiments\b|[sS]etExperiments|addExperiment|additional[-_]experiments"
    r"|\b[eE]xperiments[\"']?\s*[:=]\s*(?:\[|\(|\{|[\"']|listOf|arrayOf|List|Seq)"
    r"|\b[eE]xperiments\.(?:add|addAll|push|append|extend)\s*\("
    r"|DataflowRunner|--runner[= ]+[\"']?dataflow"
)
_PASSTHROUGH = re.compile(
    r"fromArgs\s*\(|flag\.Parse\s*\(|beam\.Init\s*\(|process\.argv|ContextAndArgs|parseArgs\s*\(|\"\$@\"|\$\*|%\*|\$args\b"
)
_FLAG = re.compile(r"^--?([A-Za-z][A-Za-z0-9_.-]*)(?:=(.*))?$", re.S)
_IDENT = re.compile(r"^(?:[\w$]+\.)*([A-Za-z_]\w*)$")
_LIST_ADD = re.compile(r"(?i)(?:^|\.)\w*experiments\.(?:add|addAll|push|append|extend)$")
_SETTER_PREFIX = re.compile(r"^(?:set|add|with|put)(?=[A-Z_])")

# Option spellings (after camelCase → snake_case) → canonical option.
_ALIASES: dict[str, str] = {
    "experiments": "experiments",
    "experiment": "experiments",
    "additional_experiments": "experiments",
    "dataflow_service_options": "dataflow_service_options",
    "dataflow_service_option": "dataflow_service_options",
    "runner": "runner",
    "dataflow_kms_key": "dataflow_kms_key",
    "service_account_email": "service_account_email",
    "service_account": "service_account_email",
    "use_public_ips": "use_public_ips",
    "no_use_public_ips": "no_use_public_ips",
    "sdk_container_image": "sdk_container_image",
    "worker_harness_container_image": "sdk_container_image",
    "subnetwork": "subnetwork",
    "network": "network",
}
_LISTS = frozenset({"experiments", "dataflow_service_options"})
_MAX_ITEMS = 10_000


def _family(name: str, suffix: str, head: str) -> Family:
    return _NAME_FAMILY.get(name) or family_of(suffix, head)


def required(path: str, size: int) -> bool:
    """The path rule of `claim` (which then sniffs the content)."""
    name = name_of(path)
    if name in _SKIP_NAMES:
        return False
    suffix = suffix_of(name)
    return suffix in FAMILY_BY_SUFFIX or suffix in _EXTRA_SUFFIXES or name in _NAME_FAMILY


def claim(entry: FileEntry) -> bool:
    if not required(entry.rel_path, entry.size) or beam_options.claim(entry):
        return False
    return _MARKER.search(sniff_text(entry.head(65536))) is not None


class _Found:
    """Options found in one file: canonical option → [(value, line)]."""

    def __init__(self) -> None:
        self.values: dict[str, list[tuple[Any, int]]] = {}

    def add(self, key: str, value: Any, line: int) -> None:
        if key == "no_use_public_ips":
            key, value = "use_public_ips", False
        items = self.values.setdefault(key, [])
        if len(items) >= _MAX_ITEMS:
            return
        if key in _LISTS and isinstance(value, str):
            items.extend((s.strip(), line) for s in value.split(",") if s.strip())
        elif value is not None:
            items.append((value, line))


def _option(name: str) -> str | None:
    return _ALIASES.get(snake(name.replace("-", "_")).replace("__", "_"))


def _scalar(value: str) -> Any:
    low = value.strip().lower()
    if low in ("true", "false"):
        return low == "true"
    return value.strip()


def _value_after(toks: list[Token], j: int, in_list: bool) -> tuple[str, int] | None:
    """The value of a flag written without `=`: the next string or word (skipping `,` in argument arrays;
    a newline ends the search outside them)."""
    while j < len(toks):
        t = toks[j]
        if t.kind == "sep" and t.text == "," and in_list:
            j += 1
            continue
        if t.kind == "nl" and in_list:
            j += 1
            continue
        if t.kind in ("str", "word") and t.text and not t.text.startswith("-"):
            return t.text, t.line
        return None
    return None


def _flags(toks: list[Token], found: _Found) -> None:
    for i, tok in enumerate(toks):
        if tok.kind not in ("str", "word") or "-" not in tok.text:
            continue
        # a string may hold several flags; `-Dexec.args="--experiments=a --project=p"` (a word and its quoted
        # value) holds flags inside another option's value
        parts = [p.split("=", 1)[1] if "=--" in p and not p.startswith("--") else p for p in tok.text.split()]
        for k, part in enumerate(parts):
            m = _FLAG.match(part)
            if m is None:
                continue
            key = _option(m.group(1))
            if key is None or (not part.startswith("--") and key not in _LISTS):
                continue
            if m.group(2) is not None:
                found.add(key, _scalar(m.group(2).strip("\"'")), tok.line)
                continue
            if key == "no_use_public_ips":
                found.add(key, True, tok.line)
                continue
            nxt: tuple[str, int] | None
            if k + 1 < len(parts):
                nxt = None if parts[k + 1].startswith("-") else (parts[k + 1], tok.line)
            else:
                nxt = _value_after(toks, i + 1, in_list=tok.kind == "str")
            if nxt is not None:
                found.add(key, _scalar(nxt[0]), nxt[1])
            elif key == "use_public_ips":
                found.add(key, True, tok.line)


def _setter_key(word: str) -> str | None:
    text = word.rstrip("=:")
    if _LIST_ADD.search(text):
        return "experiments"
    m = _IDENT.match(text)
    if m is None:
        return None
    name = _SETTER_PREFIX.sub("", m.group(1))
    return _option(name)


def _setters(toks: list[Token], found: _Found) -> None:
    n = len(toks)
    for i, tok in enumerate(toks):
        if tok.kind != "word" or tok.text.startswith("-"):
            continue
        key = _setter_key(tok.text)
        if key is None or key == "no_use_public_ips":
            continue
        j = i + 1
        assigned = tok.text.endswith(("=", ":"))
        if not assigned and j < n and toks[j].kind == "word" and toks[j].text in ("=", ":", ":="):
            assigned, j = True, j + 1
        if not assigned and not (j < n and toks[j].kind == "open"):
            continue
        depth = 0
        got = 0
        while j < n and j - i < 4096:
            t = toks[j]
            if t.kind == "open":
                depth += 1
            elif t.kind == "close":
                depth -= 1
                if depth < 0 or (depth == 0 and got):
                    break  # `[]string{…}`, `new String[]{…}`: an empty bracket pair before the values goes on
            elif ((t.kind == "nl" or (t.kind == "sep" and t.text == ";")) and depth == 0) or (
                t.kind == "sep" and t.text == "," and depth == 0
            ):
                break
            elif t.kind == "str":
                found.add(key, t.text if key in _LISTS else _scalar(t.text), t.line)
                got += 1
                if key not in _LISTS:
                    break
            elif t.kind == "word" and key not in _LISTS and t.text not in ("=", ":", ":="):
                value = t.text.removesuffix(".class").removesuffix("::class.java").removesuffix("::class")
                if value.lower() in ("true", "false") or "runner" in value.lower():
                    found.add(key, _scalar(value.rsplit(".", 1)[-1]), t.line)
                    break
            j += 1


def options_in(text: str, family: Family, path: str) -> dict[str, list[tuple[Any, int]]]:
    """Pipeline options a script of `family` sets (canonical option → [(value, line)]), as `parse` reads a file;
    for scripts held inside other resources (a SageMaker lifecycle configuration)."""
    found = _Found()
    toks = tokenize(text, family, path)
    _flags(toks, found)
    _setters(toks, found)
    return found.values


def parse(entry: FileEntry, ctx: ScanContext) -> list[PostureResource]:
    raw = entry.read(ctx.settings.budgets.max_config_bytes)
    text = decode(raw, entry.rel_path)
    family = _family(entry.name, entry.suffix, text[:256])
    toks = tokenize(text, family, entry.rel_path)
    found = _Found()
    _flags(toks, found)
    _setters(toks, found)
    if not found.values:
        return []
    view: dict[str, Any] = {}
    lines: dict[str, int] = {}
    for key, items in found.values.items():
        lines[key] = min(line for _, line in items)
        if key in _LISTS:
            view[key] = [v for v, _ in items]
            for idx, (_, line) in enumerate(items):
                lines[f"{key}[{idx}]"] = line
        else:
            view[key] = items[0][0]
            lines[key] = items[0][1]
    runner = str(view.get("runner") or "")
    explicit = "dataflow" in runner.lower() and _PASSTHROUGH.search(text) is None
    first = min(lines.values())
    return [
        build(
            raw_type="beam:pipeline_options",
            name=f"{entry.rel_path}:{first}",
            file=entry.rel_path,
            line=first,
            view=view,
            source_format="launch",
            lines=lines,
            extra={"dataflow_runner": explicit, "launch_language": family},
        )
    ]


FORMAT = FormatSpec(
    name="launch",
    claim=claim,
    parse=parse,
    path_hint=ANY_PATH,
    required=required,
    families=("dataflow",),
)
